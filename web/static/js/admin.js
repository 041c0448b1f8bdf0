// Admin pages: users, storage, the job queue, configuration and logs,
// through the admin API.
// The same script serves /admin, /admin/embedded and /admin/mobile-settings;
// it wires up only the sections the page has.

import { getJson, postJson, requestJson } from "./api.js";
import { el, readPageData, showMessage } from "./dom.js";
import { formatSize } from "./format.js";

const LOG_LINES = 200;
const pageData = readPageData();

/** Runs `action`; shows its error (or `done`) in `message`, then `after`. */
async function act(message, action, { done = "", after = null } = {}) {
  try {
    await action();
    showMessage(message, done, "success");
  } catch (error) {
    showMessage(message, error.message, "error");
  }
  if (after) {
    await after();
  }
}

function button(text, onClick, className = "secondary") {
  const element = el("button", { text, className, attrs: { type: "button" } });
  element.addEventListener("click", onClick);
  return element;
}

function row(cells, actions) {
  return el("tr", {}, [
    ...cells.map((text) => el("td", { text })),
    el("td", { className: "actions" }, actions),
  ]);
}

// Users.

function setupUsers() {
  const rows = document.getElementById("users-rows");
  const message = document.getElementById("users-message");
  const form = document.getElementById("add-user-form");

  async function refresh() {
    try {
      const { users } = await getJson("/admin/users");
      rows.replaceChildren(...users.map(userRow));
    } catch (error) {
      showMessage(message, error.message, "error");
    }
  }

  function userRow(user) {
    const ref = { user_id: user.id };
    return row(
      [user.username, user.is_admin ? "yes" : "no"],
      [
        button(user.is_admin ? "Make user" : "Make admin", () =>
          act(
            message,
            () => postJson("/admin/edit_user", { ...ref, is_admin: !user.is_admin }),
            { after: refresh },
          ),
        ),
        button("Reset password", () => {
          // TODO: ask twice, hidden, in a dialog (the console does), not prompt().
          const password = window.prompt(`New password for ${user.username}`);
          if (password) {
            act(
              message,
              () =>
                postJson("/admin/reset_password", { ...ref, new_password: password }),
              { done: `Password of ${user.username} changed.` },
            );
          }
        }),
        button(
          "Delete",
          () => {
            if (window.confirm(`Delete ${user.username} and their lists?`)) {
              act(message, () => postJson("/admin/delete_user", ref), {
                done: `${user.username} deleted.`,
                after: refresh,
              });
            }
          },
          "danger",
        ),
      ],
    );
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const fields = form.elements;
    const body = {
      username: fields.username.value.trim(),
      password: fields.password.value,
      is_admin: fields.is_admin.checked,
    };
    act(message, () => postJson("/admin/add_user", body), {
      done: `${body.username} added.`,
      after: async () => {
        form.reset();
        await refresh();
      },
    });
  });
  return refresh();
}

// Storage.

function setupStorage() {
  const rows = document.getElementById("storage-rows");
  const totals = document.getElementById("storage-totals");
  const message = document.getElementById("storage-message");
  const base = "/api/admin/cleanup/downloads";

  async function refresh() {
    try {
      const [stats, { downloads }] = await Promise.all([
        getJson("/api/admin/cleanup/storage-stats"),
        getJson(base),
      ]);
      const count = (n, thing) => `${n} ${thing}${n === 1 ? "" : "s"}`;
      totals.textContent =
        `${count(stats.total_downloads, "song")}, ` +
        `${count(stats.total_extractions, "extraction")}, ` +
        `${formatSize(stats.total_size_bytes)} on disk.`;
      rows.replaceChildren(...downloads.map(downloadRow));
    } catch (error) {
      showMessage(message, error.message, "error");
    }
  }

  function downloadRow(download) {
    const id = encodeURIComponent(download.video_id);
    const title = download.title || download.video_id;
    return row(
      [
        title,
        formatSize(download.size_on_disk ?? download.file_size),
        download.users_with_access.join(", "),
      ],
      [
        button("Reset extractions", () =>
          act(message, () => postJson(`${base}/${id}/reset-extraction`, {}), {
            done: `Extractions of ${title} reset.`,
            after: refresh,
          }),
        ),
        button(
          "Delete",
          () => {
            if (window.confirm(`Delete ${title} and all its files for everyone?`)) {
              act(message, () => requestJson(`${base}/${id}`, { method: "DELETE" }), {
                done: `${title} deleted.`,
                after: refresh,
              });
            }
          },
          "danger",
        ),
      ],
    );
  }

  document.getElementById("storage-refresh").addEventListener("click", refresh);
  return refresh();
}

// The job queue.

const JOBS_POLL_MS = 3000;
const JOB_KINDS = { download: "Download", extraction: "Stems", analysis: "Analysis" };

function setupJobs() {
  const rows = document.getElementById("jobs-rows");
  const message = document.getElementById("jobs-message");
  let timer = null;

  async function refresh() {
    clearTimeout(timer);
    let jobs = [];
    try {
      jobs = (await getJson("/api/admin/jobs")).jobs;
      rows.replaceChildren(...jobs.map(jobRow));
      if (jobs.length === 0) {
        rows.replaceChildren(
          el("tr", {}, [el("td", { text: "No jobs yet.", attrs: { colspan: 5 } })]),
        );
      }
    } catch (error) {
      showMessage(message, error.message, "error");
    }
    // Polled while something waits or runs, and the page is looked at.
    if (jobs.some((job) => job.can_cancel)) {
      timer = setTimeout(() => {
        if (document.visibilityState === "visible") {
          refresh();
        } else {
          document.addEventListener("visibilitychange", refresh, { once: true });
        }
      }, JOBS_POLL_MS);
    }
  }

  function jobRow(job) {
    const kind = JOB_KINDS[job.kind] ?? job.kind;
    const what = job.model ? `${kind} (${job.model})` : kind;
    const actions = [];
    if (job.can_cancel) {
      actions.push(
        button(
          "Cancel",
          () => {
            if (window.confirm(`Stop job ${job.id}? Its users see it cancelled.`)) {
              act(message, () => postJson(`/api/admin/jobs/${job.id}/cancel`, {}), {
                done: `Job ${job.id} cancelled.`,
                after: refresh,
              });
            }
          },
          "danger",
        ),
      );
    }
    if (job.can_retry) {
      actions.push(
        button("Retry", () =>
          act(message, () => postJson(`/api/admin/jobs/${job.id}/retry`, {}), {
            done: `Job ${job.id} queued again.`,
            after: refresh,
          }),
        ),
      );
    }
    const when = formatTime(job.finished_at ?? job.started_at ?? job.created_at);
    const tr = row(
      [`${what} #${job.id}`, job.title || job.video_id || "—", jobStatus(job), when],
      actions,
    );
    tr.dataset.status = job.status;
    return tr;
  }

  document.getElementById("jobs-refresh").addEventListener("click", refresh);
  return refresh();
}

/** A server time (UTC, ISO without zone) in the reader's own words. */
function formatTime(value) {
  const date = value ? new Date(`${value}Z`) : null;
  return date && !Number.isNaN(date.getTime()) ? date.toLocaleString() : "";
}

function jobStatus(job) {
  switch (job.status) {
    case "running": {
      const doing = job.message ? ` · ${job.message}` : "";
      return `Running, ${Math.round(job.progress)} %${doing}`;
    }
    case "queued":
      return "Waiting";
    case "failed": {
      const why = job.error_message ? `: ${job.error_message}` : "";
      return `Failed (${job.error_code ?? "no code"})${why}`;
    }
    case "cancelled":
      return "Cancelled";
    default:
      return job.status === "completed" ? "Done" : job.status;
  }
}

// Configuration.

async function setupConfig() {
  const form = document.getElementById("config-form");
  const message = document.getElementById("config-message");
  const fields = form.elements;
  try {
    const [config, logging] = await Promise.all([
      getJson("/api/config"),
      getJson("/api/config/browser-logging"),
    ]);
    fields.default_model.replaceChildren(
      ...config.models.map((name) => el("option", { text: name })),
    );
    fields.default_model.value = config.default_model;
    fields.enabled.checked = logging.enabled;
    fields.log_level.value = logging.log_level;
  } catch (error) {
    showMessage(message, error.message, "error");
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(
      message,
      async () => {
        await postJson("/api/config", { default_model: fields.default_model.value });
        await postJson("/api/config/browser-logging", {
          enabled: fields.enabled.checked,
          log_level: fields.log_level.value,
        });
      },
      { done: "Saved." },
    );
  });
}

// Logs.

function setupLogs() {
  const list = document.getElementById("logs-list");
  const view = document.getElementById("log-view");
  const message = document.getElementById("logs-message");

  async function show(filename) {
    try {
      const name = encodeURIComponent(filename);
      const log = await getJson(`/api/logs/view/${name}?lines=${LOG_LINES}`);
      view.textContent = log.content;
      view.hidden = false;
    } catch (error) {
      showMessage(message, error.message, "error");
    }
  }

  async function refresh() {
    try {
      const { logs } = await getJson("/api/logs/list");
      list.replaceChildren(
        ...logs.map((log) =>
          el("li", { className: "item" }, [
            el("span", { text: `${log.filename} (${formatSize(log.size)})` }),
            button(`View last ${LOG_LINES} lines`, () => show(log.filename)),
            el("a", {
              text: "Download",
              attrs: { href: `/api/logs/download/${encodeURIComponent(log.filename)}` },
            }),
          ]),
        ),
      );
    } catch (error) {
      showMessage(message, error.message, "error");
    }
  }
  return refresh();
}

setupConfig();
if (!pageData.settings_only) {
  setupUsers();
  setupStorage();
  setupJobs();
  setupLogs();
}
