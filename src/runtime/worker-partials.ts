import call_summary from "../../templates/partials/call_summary.hbs";
import status_label from "../../templates/partials/status_label.hbs";
import talk_time from "../../templates/partials/talk_time.hbs";

/**
 * The partials of `templates/partials/`, bundled (Workers have no file system). A Node test checks that
 * this list matches the folder.
 */
export const WORKER_PARTIALS: Record<string, string> = { call_summary, status_label, talk_time };
