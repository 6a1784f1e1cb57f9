// The agent console: the queue and one conversation, refreshed from /api/agent every 2 s.
(function () {
  "use strict";
  var REFRESH_MS = 2000;

  function api(method, path, csrf, body) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") { headers["X-CSRF-Token"] = csrf; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || ("HTTP " + response.status)); }
        return data;
      });
    });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function minutes(seconds) {
    return seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min";
  }

  function showError(node, error) {
    node.hidden = !error;
    node.textContent = error ? String(error.message || error) : "";
  }

  function queue(root) {
    var rows = document.getElementById("queue-rows");
    var problem = document.getElementById("queue-error");
    function refresh() {
      api("GET", "/api/agent/queue", "").then(function (items) {
        showError(problem, null);
        rows.textContent = "";
        if (!items.length) {
          var empty = document.createElement("tr");
          cell(empty, "Nobody is waiting.").colSpan = 6;
          rows.appendChild(empty);
        }
        items.forEach(function (item) {
          var tr = document.createElement("tr");
          tr.className = "queue-item";
          tr.dataset.conversation = item.conversation_id;
          cell(tr, minutes(item.wait_seconds));
          cell(tr, item.channel);
          cell(tr, item.state === "active" ? "with " + item.agent : "waiting");
          cell(tr, item.summary || "");
          cell(tr, item.lead_score === null ? "" : item.lead_grade + " (" + item.lead_score + ")");
          var link = document.createElement("a");
          link.href = "/console/agent/conversations/" + encodeURIComponent(item.conversation_id);
          link.textContent = "Open";
          cell(tr, "").appendChild(link);
          rows.appendChild(tr);
        });
      }).catch(function (error) { showError(problem, error); });
    }
    refresh();
    setInterval(refresh, REFRESH_MS);
  }

  function conversation(root) {
    var id = root.dataset.conversation;
    var csrf = root.dataset.csrf;
    var me = root.dataset.me;
    var base = "/api/agent/conversations/" + encodeURIComponent(id);
    var list = document.getElementById("transcript");
    var stateLine = document.getElementById("handoff-state");
    var problem = document.getElementById("agent-error");
    var buttons = {
      claim: document.getElementById("claim"),
      handback: document.getElementById("handback"),
      close: document.getElementById("close"),
      send: document.getElementById("reply-send")
    };
    function render(data) {
      var handoff = data.handoff;
      stateLine.textContent = handoff.state === "active"
        ? "With " + handoff.agent + "; the bot is silent."
        : "Waiting for a person for " + minutes(handoff.wait_seconds) + ".";
      buttons.claim.disabled = handoff.state !== "waiting";
      buttons.send.disabled = !(handoff.state === "active" && handoff.agent === me);
      list.textContent = "";
      data.transcript.forEach(function (turn) {
        var li = document.createElement("li");
        li.className = "turn turn-" + turn.role;
        var who = document.createElement("strong");
        who.textContent = turn.role === "agent" ? turn.agent : turn.role;
        li.appendChild(who);
        li.appendChild(document.createTextNode(": " + turn.text));
        list.appendChild(li);
      });
      if (data.transcript_error) { showError(problem, data.transcript_error); }
    }
    function refresh() {
      api("GET", base, "").then(function (data) {
        showError(problem, null);
        render(data);
      }).catch(function (error) {
        stateLine.textContent = "This conversation is with the bot (no open handoff).";
        Object.keys(buttons).forEach(function (k) { buttons[k].disabled = true; });
        showError(problem, error);
      });
    }
    function act(name) {
      return function () {
        api("POST", base + "/" + name, csrf).then(refresh).catch(function (e) { showError(problem, e); });
      };
    }
    buttons.claim.addEventListener("click", act("claim"));
    buttons.handback.addEventListener("click", act("handback"));
    buttons.close.addEventListener("click", act("close"));
    document.getElementById("reply-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var box = document.getElementById("reply-text");
      var text = box.value.trim();
      if (!text) { return; }
      api("POST", base + "/reply", csrf, { text: text }).then(function () {
        box.value = "";
        refresh();
      }).catch(function (e) { showError(problem, e); });
    });
    refresh();
    setInterval(refresh, REFRESH_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var q = document.getElementById("agent-queue");
    if (q) { queue(q); }
    var c = document.getElementById("agent-conversation");
    if (c) { conversation(c); }
  });
})();
