// The knowledge console: documents, jobs and try-a-question (/console/knowledge) and the
// unanswered-questions queue (/console/unanswered), both from /api/admin.
(function () {
  "use strict";
  var JOB_POLL_MS = 700;

  function request(method, path, csrf, body, isForm) {
    var headers = { "Accept": "application/json" };
    if (method !== "GET") { headers["X-CSRF-Token"] = csrf; }
    if (body !== undefined && !isForm) { headers["Content-Type"] = "application/json"; }
    return fetch(path, {
      method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : (isForm ? body : JSON.stringify(body))
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var detail = (data.details || []).map(function (d) { return d.message; }).join("; ");
          throw new Error((data.error || data.detail || ("HTTP " + response.status)) + (detail ? ": " + detail : ""));
        }
        return data;
      });
    });
  }

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function cell(row, text) {
    var td = el("td", text);
    row.appendChild(td);
    return td;
  }

  function showError(node, error) {
    node.hidden = !error;
    node.textContent = error ? String(error.message || error) : "";
  }

  function size(bytes) {
    if (bytes === null || bytes === undefined) { return "missing"; }
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function when(iso) {
    if (!iso) { return ""; }
    var date = new Date(iso);
    return isNaN(date.getTime()) ? iso : date.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  function renderAnswer(result, replyNode, confidenceNode, chunkRows) {
    replyNode.textContent = result.reply;
    replyNode.className = "kb-reply" + (result.answered ? "" : " kb-declined");
    replyNode.dataset.answered = result.answered ? "yes" : "no";
    if (confidenceNode) {
      confidenceNode.textContent = (result.answered ? "Answered" : "Declined") +
        " with confidence " + result.confidence.toFixed(3) +
        " (threshold " + result.threshold.toFixed(2) + ")" +
        (result.sources.length ? "; sources: " + result.sources.map(function (s) { return s.location; }).join(", ") : "");
    }
    if (!chunkRows) { return; }
    chunkRows.textContent = "";
    var marked = false;
    result.chunks.forEach(function (chunk) {
      if (!chunk.above_threshold && !marked) {
        marked = true;
        var line = el("tr", null, "kb-threshold");
        var td = cell(line, "threshold " + result.threshold.toFixed(2) + ": chunks below are not confident enough to answer from");
        td.colSpan = 4;
        chunkRows.appendChild(line);
      }
      var tr = el("tr", null, "try-chunk" + (chunk.above_threshold ? "" : " kb-below"));
      cell(tr, String(chunk.rank));
      var body = cell(tr, "");
      body.appendChild(el("strong", chunk.location));
      body.appendChild(el("div", chunk.text, "kb-chunk"));
      cell(tr, chunk.score.toFixed(3));
      cell(tr, chunk.confidence.toFixed(3));
      chunkRows.appendChild(tr);
    });
    if (!marked) {
      var end = el("tr", null, "kb-threshold");
      cell(end, "threshold " + result.threshold.toFixed(2) + ": every chunk above is above it").colSpan = 4;
      chunkRows.appendChild(end);
    }
  }

  function knowledge(root) {
    var csrf = root.dataset.csrf;
    var problem = document.getElementById("kb-error");
    var rows = document.getElementById("source-rows");
    var summary = document.getElementById("sources-summary");
    var jobStatus = document.getElementById("job-status");
    var replaceInput = document.getElementById("replace-file");
    var replaceSource = null;

    function loadSources() {
      return request("GET", "/api/admin/knowledge/sources", "").then(function (data) {
        summary.textContent = data.documents + " documents, " + data.chunks + " chunks; last indexed " + (when(data.last_indexed) || "never") + ".";
        rows.textContent = "";
        data.sources.forEach(function (source) {
          var tr = el("tr", null, "source-row");
          tr.dataset.source = source.source;
          var name = cell(tr, "");
          name.appendChild(el("strong", source.title || source.source));
          name.appendChild(el("div", source.source, "staff-note"));
          cell(tr, String(source.chunks)).className = "source-chunks";
          cell(tr, size(source.size_bytes));
          cell(tr, when(source.indexed_at));
          var actions = cell(tr, "");
          actions.className = "kb-actions";
          [["Preview", preview], ["Replace", replace], ["Delete", remove]].forEach(function (pair) {
            var button = el("button", pair[0], "source-" + pair[0].toLowerCase());
            button.type = "button";
            button.addEventListener("click", function () { pair[1](source.source); });
            actions.appendChild(button);
          });
          rows.appendChild(tr);
        });
      }).catch(function (error) { showError(problem, error); });
    }

    function preview(source) {
      request("GET", "/api/admin/knowledge/sources/chunks?source=" + encodeURIComponent(source), "").then(function (chunks) {
        var box = document.getElementById("chunk-preview");
        var list = document.getElementById("chunk-list");
        document.getElementById("chunk-preview-title").textContent = source + ": " + plural(chunks.length, "chunk");
        list.textContent = "";
        chunks.forEach(function (chunk) {
          var item = el("div", null, "kb-chunk preview-chunk");
          item.appendChild(el("strong", chunk.location));
          item.appendChild(document.createTextNode("\n" + chunk.text));
          list.appendChild(item);
        });
        box.hidden = false;
        box.scrollIntoView({ block: "nearest" });
      }).catch(function (error) { showError(problem, error); });
    }

    function replace(source) {
      replaceSource = source;
      replaceInput.value = "";
      replaceInput.click();
    }

    replaceInput.addEventListener("change", function () {
      if (!replaceInput.files.length || !replaceSource) { return; }
      var form = new FormData();
      form.append("file", replaceInput.files[0]);
      request("PUT", "/api/admin/knowledge/sources?source=" + encodeURIComponent(replaceSource), csrf, form, true)
        .then(follow).catch(function (error) { showError(problem, error); });
    });

    function remove(source) {
      if (!window.confirm("Delete " + source + " from the content folder and the index?")) { return; }
      request("DELETE", "/api/admin/knowledge/sources?source=" + encodeURIComponent(source), csrf)
        .then(follow).catch(function (error) { showError(problem, error); });
    }

    function showJob(job) {
      jobStatus.textContent = "";
      var box = el("div", null, "kb-job");
      box.id = "job-" + job.id;
      box.dataset.status = job.status;
      var title = el("p", null);
      title.appendChild(el("strong", job.kind.charAt(0).toUpperCase() + job.kind.slice(1) + ": " + job.status));
      title.appendChild(document.createTextNode(" (" + job.done + " of " + job.total + " files)"));
      title.className = "job-title";
      box.appendChild(title);
      var bar = el("progress");
      bar.max = Math.max(job.total, 1);
      bar.value = job.status === "done" && job.total === 0 ? 1 : job.done;
      box.appendChild(bar);
      var list = el("ul", null, "job-files");
      job.files.forEach(function (file) {
        var text = file.name + ": " + file.status +
          (file.status === "done" ? " (" + plural(file.chunks, "chunk") + ")" : "") +
          (file.error ? " (" + file.error + ")" : "");
        var item = el("li", text, "job-file kb-file-" + file.status);
        item.dataset.name = file.name;
        list.appendChild(item);
      });
      box.appendChild(list);
      if (job.error) { box.appendChild(el("p", job.error, "staff-note job-error")); }
      jobStatus.appendChild(box);
    }

    function follow(job) {
      showError(problem, null);
      showJob(job);
      if (job.status === "queued" || job.status === "running") {
        setTimeout(function () {
          request("GET", "/api/admin/knowledge/jobs/" + encodeURIComponent(job.id), "").then(follow)
            .catch(function (error) { showError(problem, error); });
        }, JOB_POLL_MS);
      } else {
        loadSources();
      }
    }

    document.getElementById("upload-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("upload-files");
      if (!input.files.length) { showError(problem, "Choose at least one file."); return; }
      var form = new FormData();
      Array.prototype.forEach.call(input.files, function (file) { form.append("files", file); });
      request("POST", "/api/admin/knowledge/uploads", csrf, form, true).then(function (job) {
        input.value = "";
        follow(job);
      }).catch(function (error) { showError(problem, error); });
    });

    document.getElementById("reindex").addEventListener("click", function () {
      request("POST", "/api/admin/knowledge/reindex", csrf).then(follow)
        .catch(function (error) { showError(problem, error); });
    });

    document.getElementById("try-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var question = document.getElementById("try-question").value;
      var button = document.getElementById("try-send");
      button.disabled = true;
      request("POST", "/api/admin/knowledge/try", csrf, { question: question }).then(function (result) {
        showError(problem, null);
        document.getElementById("try-result").hidden = false;
        renderAnswer(result, document.getElementById("try-reply"),
          document.getElementById("try-confidence"), document.getElementById("try-chunks"));
      }).catch(function (error) { showError(problem, error); })
        .then(function () { button.disabled = false; });
    });

    loadSources();
    request("GET", "/api/admin/knowledge/jobs", "").then(function (jobs) {
      if (jobs.length) { follow(jobs[0]); }
    }).catch(function (error) { showError(problem, error); });
  }

  function unanswered(root) {
    var csrf = root.dataset.csrf;
    var problem = document.getElementById("ua-error");
    var list = document.getElementById("ua-groups");
    var summary = document.getElementById("ua-summary");
    var done = document.getElementById("ua-done");

    function resolved(group, outcome) {
      showError(problem, null);
      var box = el("div", null, "ua-group ua-resolved");
      box.dataset.group = group.id;
      var verb = outcome.status === "answered" ? "Answered" : outcome.status === "linked" ? "Linked" : "Dismissed";
      box.appendChild(el("p", verb + ": \u201c" + group.question + "\u201d (" + plural(outcome.resolved, "question") + " left the queue" +
        (outcome.location ? "; " + outcome.location : "") + (outcome.case_added ? "; regression case added" : "") + ")"));
      if (outcome.result) {
        box.appendChild(el("p", "Asked again, the bot now replies:"));
        var reply = el("div", null, "ua-result");
        renderAnswer(outcome.result, reply, null, null);
        reply.className = "ua-result" + (outcome.result.answered ? "" : " kb-declined");
        box.appendChild(reply);
        box.appendChild(el("p", "Confidence " + outcome.result.confidence.toFixed(3) + " (threshold " +
          outcome.result.threshold.toFixed(2) + ")", "staff-note"));
      }
      done.insertBefore(box, done.firstChild);
      load();
    }

    function groupNode(group) {
      var box = el("article", null, "ua-group");
      box.dataset.group = group.id;
      box.appendChild(el("h2", group.question, "ua-question"));
      box.appendChild(el("p", "Asked " + plural(group.count, "time") +
        ", latest " + when(group.latest_at) + " · " + group.reasons.join(", ").replace(/_/g, " "), "ua-meta ua-count"));
      var items = el("ul", null, "ua-items");
      group.items.slice(0, 10).forEach(function (item) {
        items.appendChild(el("li", "\u201c" + item.question + "\u201d (" + item.reason.replace(/_/g, " ") + ", " +
          item.channel + ", conversation " + item.conversation_id + ", " + when(item.created_at) + ")"));
      });
      box.appendChild(items);

      var questionLabel = el("label", "Question (as the FAQ entry will ask it)");
      var question = el("input");
      question.type = "text";
      question.className = "ua-answer-question";
      question.value = group.question;
      question.maxLength = 500;
      questionLabel.appendChild(question);
      var answerLabel = el("label", "Answer");
      var answer = el("textarea");
      answer.className = "ua-answer-text";
      answer.rows = 3;
      answer.maxLength = 2000;
      answerLabel.appendChild(answer);
      var linkLabel = el("label", "Or the document that answers it (e.g. docs/returns.md or docs/returns.md#refunds)");
      var link = el("input");
      link.type = "text";
      link.className = "ua-link-location";
      linkLabel.appendChild(link);
      [questionLabel, answerLabel, linkLabel].forEach(function (n) { box.appendChild(n); });

      var actions = el("div", null, "ua-actions");
      function action(label, className, handler) {
        var button = el("button", label, className);
        button.type = "button";
        button.addEventListener("click", function () {
          button.disabled = true;
          handler().then(function (outcome) { resolved(group, outcome); })
            .catch(function (error) { showError(problem, error); button.disabled = false; });
        });
        actions.appendChild(button);
      }
      var base = "/api/admin/unanswered/" + encodeURIComponent(group.id);
      action("Save answer", "ua-answer", function () {
        return request("POST", base + "/answer", csrf, { question: question.value, answer: answer.value });
      });
      action("Link document", "ua-link", function () {
        return request("POST", base + "/link", csrf, { location: link.value });
      });
      action("Dismiss", "ua-dismiss", function () { return request("POST", base + "/dismiss", csrf); });
      box.appendChild(actions);
      return box;
    }

    function load() {
      return request("GET", "/api/admin/unanswered", "").then(function (groups) {
        var total = groups.reduce(function (sum, g) { return sum + g.count; }, 0);
        summary.textContent = groups.length ?
          plural(total, "question") + " in " + plural(groups.length, "group") + "." :
          "Nothing is waiting: every question was answered.";
        list.textContent = "";
        groups.forEach(function (group) { list.appendChild(groupNode(group)); });
      }).catch(function (error) { showError(problem, error); });
    }

    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var kb = document.getElementById("knowledge-console");
    if (kb) { knowledge(kb); }
    var ua = document.getElementById("unanswered-console");
    if (ua) { unanswered(ua); }
  });
})();
