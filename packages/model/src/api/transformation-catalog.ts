import type { TransformationCatalog as TransformationCatalogModel } from '../transformation-catalog.js';
import { transformationCatalogToYaml, writeTransformationCatalog } from '../write-transformation-catalog.js';
import type { Container, Transformation } from './transformation.js';

export class TransformationCatalog {
  readonly transformations: Transformation[] = [];
  readonly containers: Container[] = [];

  addTransformations(...ts: Transformation[]): this {
    this.transformations.push(...ts);
    return this;
  }
  addContainers(...cs: Container[]): this {
    this.containers.push(...cs);
    return this;
  }
  toModel(): TransformationCatalogModel {
    return {
      pegasus: '5.0',
      transformations: this.transformations.map((t) => t.toModel()),
      containers: this.containers.map((c) => c.toModel()),
    };
  }
  toYaml(): string {
    return transformationCatalogToYaml(this.toModel());
  }
  async write(path = 'transformations.yml'): Promise<void> {
    await writeTransformationCatalog(this.toModel(), path);
  }
}
