// Text imports embedded by the bundler (the system schema).
declare module "*.yaml" {
  const text: string;
  export default text;
}

// The API reference page's assets, embedded as files: the import is the file's path.
declare module "swagger-ui-dist/swagger-ui.css" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
