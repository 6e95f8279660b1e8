import api from "../console/assets/api.mjs";
import css from "../console/assets/console.css";
import shell from "../console/assets/console.mjs";
import deliveries from "../console/assets/deliveries.mjs";
import dom from "../console/assets/dom.mjs";
import events from "../console/assets/events.mjs";
import fields from "../console/assets/fields.mjs";
import html from "../console/assets/index.html";
import presetPicker from "../console/assets/preset-picker.mjs";
import preview from "../console/assets/preview.mjs";
import previewEvents from "../console/assets/preview-events.mjs";
import recover from "../console/assets/recover.mjs";
import replay from "../console/assets/replay.mjs";
import sincePanel from "../console/assets/since-panel.mjs";
import sources from "../console/assets/sources.mjs";
import webhookControls from "../console/assets/webhook-controls.mjs";
import webhookForm from "../console/assets/webhook-form.mjs";
import webhookNotices from "../console/assets/webhook-notices.mjs";
import webhookSave from "../console/assets/webhook-save.mjs";
import webhookSections from "../console/assets/webhook-sections.mjs";
import webhooks from "../console/assets/webhooks.mjs";
import type { ConsoleAssets } from "../console/routes.js";

/** The console's files, bundled as text (wrangler.toml's Text rule; Workers have no file system). */
export const WORKER_CONSOLE: ConsoleAssets = {
  "index.html": html,
  "console.css": css,
  "console.mjs": shell,
  "api.mjs": api,
  "dom.mjs": dom,
  "fields.mjs": fields,
  "sources.mjs": sources,
  "webhooks.mjs": webhooks,
  "webhook-form.mjs": webhookForm,
  "webhook-controls.mjs": webhookControls,
  "webhook-sections.mjs": webhookSections,
  "preset-picker.mjs": presetPicker,
  "webhook-save.mjs": webhookSave,
  "webhook-notices.mjs": webhookNotices,
  "preview.mjs": preview,
  "preview-events.mjs": previewEvents,
  "recover.mjs": recover,
  "replay.mjs": replay,
  "since-panel.mjs": sincePanel,
  "deliveries.mjs": deliveries,
  "events.mjs": events,
};
