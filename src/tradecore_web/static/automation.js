// The automation section of /brokers/: the controls act in place, the frequency slider stores
// its value as it is moved, and the section follows the runs live (it asks /automation/status/
// every few seconds and, when a run starts or ends, swaps in the section as the server renders
// it at /brokers/automation/). Without JavaScript the forms post and the page reloads.
"use strict";

(function () {
  const SECTION = "automation";
  const BUSY_MS = 1500;
  const IDLE_MS = 5000;
  let timer = null;

  function section() {
    return document.getElementById(SECTION);
  }

  function showError(text) {
    const box = document.getElementById("automation-error");
    if (!box) return;
    box.textContent = text || "";
    box.hidden = !text;
  }

  async function send(url, method, body) {
    const headers = { "X-CSRFToken": window.tradecore.csrfToken(), Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const answer = await fetch(url, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(data.detail || answer.statusText);
    return data;
  }

  function signature(status) {
    const last = status.last_run ? status.last_run.id + ":" + (status.last_run.status || "running") : "";
    return [status.state, status.running ? status.running.run_id : "", last, status.run_requested_at || ""].join("|");
  }

  function shownSignature(node) {
    return [node.dataset.state, node.dataset.running, node.dataset.last, node.dataset.requested].join("|");
  }

  async function refresh() {
    const current = section();
    if (!current) return;
    const answer = await fetch("/brokers/automation/", { credentials: "same-origin" });
    if (!answer.ok) return;
    const html = await answer.text();
    const fresh = new DOMParser().parseFromString(html, "text/html").getElementById(SECTION);
    if (!fresh) return;
    const open = new Set(
      Array.from(current.querySelectorAll("details[open]")).map((each) => each.dataset.run)
    );
    fresh.querySelectorAll("details").forEach((each) => {
      if (open.has(each.dataset.run)) each.open = true;
    });
    const slider = current.querySelector("#automation-minutes");
    const moving = slider && document.activeElement === slider;
    if (moving) {
      const keep = fresh.querySelector("#automation-frequency-form");
      keep.replaceWith(current.querySelector("#automation-frequency-form"));
    }
    current.replaceWith(fresh);
  }

  async function poll() {
    let busy = false;
    try {
      const status = await send("/automation/status/", "GET");
      busy = Boolean(status.running || status.run_requested_at);
      const node = section();
      if (node && signature(status) !== shownSignature(node)) await refresh();
    } catch (error) {
      // a missed poll is not worth a message: the next one tries again
    }
    schedule(busy ? BUSY_MS : IDLE_MS);
  }

  function schedule(delay) {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(poll, delay);
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.closest("#" + SECTION)) return;
    if (form.classList.contains("automation-control")) {
      event.preventDefault();
      try {
        await send(form.dataset.api, "POST");
        showError("");
        await refresh();
        schedule(BUSY_MS);
      } catch (error) {
        showError(error.message);
      }
    } else if (form.id === "automation-frequency-form") {
      event.preventDefault();
      await storeFrequency(form.querySelector("#automation-minutes"));
    }
  });

  async function storeFrequency(slider) {
    const saved = document.getElementById("automation-frequency-saved");
    try {
      const status = await send("/api/v1/automation/frequency", "PUT", { minutes: Number(slider.value) });
      slider.dataset.stored = String(status.frequency_minutes);
      const shown = document.getElementById("automation-frequency");
      if (shown) shown.textContent = shown.textContent.replace(/\d+/, String(status.frequency_minutes));
      if (saved) saved.textContent = saved.dataset.word + ": " + status.frequency_minutes;
      showError("");
    } catch (error) {
      slider.value = slider.dataset.stored;
      if (saved) saved.textContent = "";
      showError(error.message);
    }
  }

  document.addEventListener("input", (event) => {
    if (event.target.id !== "automation-minutes") return;
    const shown = document.getElementById("automation-minutes-shown");
    if (shown) shown.textContent = event.target.value;
  });

  document.addEventListener("change", (event) => {
    if (event.target.id === "automation-minutes") storeFrequency(event.target);
  });

  document.addEventListener("DOMContentLoaded", () => {
    if (section()) schedule(BUSY_MS);
  });
})();
