// The analytics page: reads /api/admin/analytics for the chosen days, fills the tables and
// draws the charts (Chart.js, bundled into this file at build time; nothing from a CDN).
import Chart from "chart.js/auto";

const API = "/api/admin/analytics";
const COLORS = ["#7a3912", "#2f6f8f", "#6b8f2f", "#b5651d", "#8f2f6b", "#4d4d4d"];
const GRADE_COLORS = { hot: "#b3261e", warm: "#d98c1f", cold: "#2f6f8f" };
const STAGE_LABELS = {
  conversation: "Conversations",
  lead: "Left a lead",
  qualified: "Qualified lead (hot or warm)",
  delivered_to_crm: "Delivered to the CRM",
};
const STAGE_SHORT = {
  conversation: "Conversations",
  lead: "Lead",
  qualified: "Qualified",
  delivered_to_crm: "In the CRM",
};
const charts = {};

Chart.defaults.animation = false; // the numbers, at once (and the same in every screenshot)
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

function percent(rate) {
  return rate === null || rate === undefined ? "n/a" : (rate * 100).toFixed(1) + "%";
}

function plain(number) {
  return Number.isInteger(number) ? String(number) : number.toFixed(1);
}

function seconds(value) {
  if (value === null || value === undefined) { return "n/a"; }
  if (value < 60) { return plain(value) + " s"; }
  const minutes = Math.floor(value / 60);
  return minutes + " min " + plain(value - minutes * 60) + " s";
}

function millis(value) {
  return value === null || value === undefined ? "n/a" : plain(value) + " ms";
}

function cell(row, tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text;
  if (className) { node.className = className; }
  row.appendChild(node);
  return node;
}

// A two-column table of [label, shown value, raw value, id] rows.
function facts(id, rows) {
  const body = document.querySelector("#table-" + id + " tbody");
  body.textContent = "";
  rows.forEach(([label, shown, raw, key]) => {
    const tr = document.createElement("tr");
    cell(tr, "th", label);
    const td = cell(tr, "td", shown, "num");
    td.id = id + "-" + key;
    td.dataset.value = raw === null || raw === undefined ? "" : String(raw);
    body.appendChild(tr);
  });
}

function grid(id, header, rows) {
  const table = document.getElementById("table-" + id);
  const head = table.querySelector("thead");
  const body = table.querySelector("tbody");
  head.textContent = "";
  body.textContent = "";
  const tr = document.createElement("tr");
  header.forEach((name, index) => cell(tr, "th", name, index ? "num" : ""));
  head.appendChild(tr);
  rows.forEach((values) => {
    const row = document.createElement("tr");
    values.forEach((value, index) => cell(row, index ? "td" : "th", String(value), index ? "num" : ""));
    body.appendChild(row);
  });
}

function draw(id, config, total) {
  if (charts[id]) { charts[id].destroy(); }
  const canvas = document.getElementById("chart-" + id);
  config.options = Object.assign({ responsive: true, maintainAspectRatio: false }, config.options);
  charts[id] = new Chart(canvas, config);
  canvas.dataset.total = String(total);
}

function sum(values) {
  return values.reduce((a, b) => a + b, 0);
}

function conversations(volume) {
  const days = [];
  const byDay = {};
  volume.per_day.forEach((item) => {
    if (!(item.day in byDay)) { byDay[item.day] = {}; days.push(item.day); }
    byDay[item.day][item.channel] = item.conversations;
  });
  const datasets = volume.channels.map((channel, index) => ({
    label: channel,
    data: days.map((day) => byDay[day][channel] || 0),
    backgroundColor: COLORS[index % COLORS.length],
  }));
  draw("conversations", {
    type: "bar",
    data: { labels: days, datasets },
    options: {
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
    },
  }, volume.total);
  const rows = days.map((day) => {
    const counts = volume.channels.map((channel) => byDay[day][channel] || 0);
    return [day, ...counts, sum(counts)];
  });
  rows.push(["Total", ...volume.channels.map((channel) => volume.by_channel[channel]), volume.total]);
  grid("conversations", ["Day", ...volume.channels, "All channels"], rows);
}

function render(report) {
  conversations(report.conversations);
  const c = report.containment;
  facts("containment", [
    ["Conversations", String(c.conversations), c.conversations, "conversations"],
    ["Handed to a person (or asked for one)", String(c.handed_to_person), c.handed_to_person, "handed"],
    ["Resolved without a person", String(c.contained), c.contained, "contained"],
    ["Containment", percent(c.rate), c.rate, "rate"],
  ]);
  const a = report.answers;
  facts("answers", [
    ["Knowledge-base questions", String(a.kb_questions), a.kb_questions, "kb-questions"],
    ["Answered", String(a.kb_answered), a.kb_answered, "kb-answered"],
    ["Answer rate", percent(a.answer_rate), a.answer_rate, "answer-rate"],
    ["Customer messages the bot handled", String(a.user_turns), a.user_turns, "user-turns"],
    ["Fell back (not understood)", String(a.fallback_turns), a.fallback_turns, "fallback-turns"],
    ["Fallback rate", percent(a.fallback_rate), a.fallback_rate, "fallback-rate"],
  ]);
  const t = report.thumbs;
  facts("thumbs", [
    ["Thumbs up", String(t.up), t.up, "up"],
    ["Thumbs down", String(t.down), t.down, "down"],
    ["Share up", percent(t.up_share), t.up_share, "up-share"],
  ]);
  draw("thumbs", {
    type: "doughnut",
    data: { labels: ["Up", "Down"], datasets: [{ data: [t.up, t.down], backgroundColor: ["#6b8f2f", "#b3261e"] }] },
  }, t.total);
  const h = report.handoffs;
  facts("handoffs", [
    ["Handoffs", String(h.requested), h.requested, "requested"],
    ["Taken by a person", String(h.claimed), h.claimed, "claimed"],
    ["Never taken", String(h.unclaimed), h.unclaimed, "unclaimed"],
    ["Median wait for a person", seconds(h.median_wait_seconds), h.median_wait_seconds, "median-wait"],
  ]);
  const grades = report.leads.by_grade;
  facts("leads", [
    ...grades.map((g) => [g.grade.charAt(0).toUpperCase() + g.grade.slice(1), String(g.leads), g.leads, g.grade]),
    ["All leads", String(report.leads.total), report.leads.total, "total"],
  ]);
  draw("leads", {
    type: "bar",
    data: {
      labels: grades.map((g) => g.grade),
      datasets: [{
        label: "Leads",
        data: grades.map((g) => g.leads),
        backgroundColor: grades.map((g) => GRADE_COLORS[g.grade] || COLORS[5]),
      }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  }, report.leads.total);
  const stages = report.funnel;
  grid("funnel", ["Stage", "Conversations", "Share"],
    stages.map((s) => [STAGE_LABELS[s.stage] || s.stage, s.conversations, percent(s.share)]));
  draw("funnel", {
    type: "bar",
    data: {
      labels: stages.map((s) => STAGE_SHORT[s.stage] || s.stage),
      datasets: [{ label: "Conversations", data: stages.map((s) => s.conversations), backgroundColor: COLORS[1] }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  }, sum(stages.map((s) => s.conversations)));
  const r = report.response_time;
  facts("response_time", [
    ["Replies measured", String(r.replies), r.replies, "replies"],
    ["Median response time", millis(r.median_ms), r.median_ms, "median"],
  ]);
}

function showError(message) {
  const node = document.getElementById("analytics-error");
  node.hidden = !message;
  node.textContent = message || "";
}

function load(root, from, to) {
  const query = "?from=" + encodeURIComponent(from) + "&to=" + encodeURIComponent(to);
  const status = document.getElementById("analytics-status");
  root.dataset.state = "loading";
  status.textContent = "Loading…";
  document.querySelectorAll("a[id^='csv-']").forEach((link) => {
    link.href = API + "/" + link.id.slice(4) + ".csv" + query;
  });
  return fetch(API + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((response) => response.json().then((data) => {
      if (!response.ok) { throw new Error(data.error || "HTTP " + response.status); }
      return data;
    }))
    .then((report) => {
      render(report);
      showError(null);
      status.textContent = "From " + report.from + " to " + report.to + " (UTC).";
      root.dataset.state = "ready";
    })
    .catch((error) => {
      showError("The numbers could not be loaded: " + (error.message || error));
      status.textContent = "";
      root.dataset.state = "error";
    });
}

function start() {
  const root = document.getElementById("analytics");
  if (!root) { return; }
  const form = document.getElementById("analytics-range");
  const from = document.getElementById("range-from");
  const to = document.getElementById("range-to");
  const params = new URLSearchParams(window.location.search);
  if (params.get("from")) { from.value = params.get("from"); }
  if (params.get("to")) { to.value = params.get("to"); }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (from.value && to.value && from.value > to.value) {
      showError("'From' must not be after 'To'.");
      return;
    }
    const query = "?from=" + encodeURIComponent(from.value) + "&to=" + encodeURIComponent(to.value);
    window.history.replaceState(null, "", window.location.pathname + query);
    load(root, from.value, to.value);
  });
  load(root, from.value, to.value);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
