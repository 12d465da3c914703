// The builder API, in the spirit of Pegasus.api (Python).
export { Properties } from '../properties.js';
export { File } from './file.js';
export { type AnyJob, type InputOptions, Job, type OutputOptions, SubWorkflow } from './job.js';
export { Annotated, Profiled } from './profiled.js';
export { ReplicaCatalog } from './replica-catalog.js';
export { Directory, FileServer, Grid, type GridOptions, Site, type SiteOptions } from './site.js';
export { SiteCatalog } from './site-catalog.js';
export {
  Container,
  type ContainerOptions,
  Transformation,
  type TransformationOptions,
  TransformationSite,
  type TransformationSiteOptions,
} from './transformation.js';
export { TransformationCatalog } from './transformation-catalog.js';
export { type BuilderCatalogs, Workflow, type WorkflowOptions } from './workflow.js';
