// Files imported as text: wrangler's `Text` rules, and the workerd test config's plugin, bundle them.
declare module "*.hbs" {
  const text: string;
  export default text;
}

// The console's files, bundled as text on Workers (its modules are .mjs so that no TypeScript import matches).
declare module "*.mjs" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const text: string;
  export default text;
}
declare module "*.html" {
  const text: string;
  export default text;
}
