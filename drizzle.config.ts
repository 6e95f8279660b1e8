import { defineConfig } from "drizzle-kit";

// `npm run db:generate` after a schema change writes the next migration; both runtimes apply the same files.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/store/schema.ts",
  out: "./src/store/migrations",
});
