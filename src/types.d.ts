// Text imports embedded by the bundler (the system schema).
declare module "*.yaml" {
  const text: string;
  export default text;
}

// The API reference page's assets, embedded as text.
declare module "swagger-ui-dist/swagger-ui.css" {
  const text: string;
  export default text;
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const text: string;
  export default text;
}
