import type { SiteCatalog as SiteCatalogModel } from '../site-catalog.js';
import { siteCatalogToYaml, writeSiteCatalog } from '../write-site-catalog.js';
import type { Site } from './site.js';

export class SiteCatalog {
  readonly sites: Site[] = [];
  addSites(...sites: Site[]): this {
    for (const s of sites) {
      if (this.sites.some((x) => x.name === s.name))
        throw new TypeError(`SiteCatalog: duplicate site ${s.name}`);
      this.sites.push(s);
    }
    return this;
  }
  toModel(): SiteCatalogModel {
    return { pegasus: '5.0', sites: this.sites.map((s) => s.toModel()) };
  }
  toYaml(): string {
    return siteCatalogToYaml(this.toModel());
  }
  async write(path = 'sites.yml'): Promise<void> {
    await writeSiteCatalog(this.toModel(), path);
  }
}
