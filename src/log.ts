import { z } from "zod";

/** Structured JSON logs, one line each, with the ids that tie an entry to its event and delivery. */
export const logLevelSchema = z.enum(["debug", "info", "warn", "error", "silent"], { error: "must be debug, info, warn, error or silent" });
type LogLevel = z.infer<typeof logLevelSchema>;
type Fields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warn(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(level: LogLevel = "info", write: (line: string) => void = (line) => console.log(line)): Logger {
  const at = (lvl: Exclude<LogLevel, "silent">) => (message: string, fields?: Fields) => {
    if (RANK[lvl] < RANK[level]) return;
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: message, ...fields }));
  };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
