// Handlebars files imported as text: wrangler's `Text` rule, and the test config's plugin, bundle them.
declare module "*.hbs" {
  const text: string;
  export default text;
}
