// Text imports embedded by the bundler (the system schema).
declare module "*.yaml" {
  const text: string;
  export default text;
}
