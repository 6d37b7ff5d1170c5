// The desk's only script: the resumable upload (tus) and the live
// progress of encodes. Everything else works without it.
"use strict";
(function () {
  var csrf = document.querySelector('meta[name="csrf-token"]');
  csrf = csrf ? csrf.content : "";

  // Live progress: poll the show's progress.json while something is on
  // its way, and update each row's state and bar in place.
  var table = document.getElementById("episodes");
  if (table && table.hasAttribute("data-busy")) {
    var poll = function () {
      fetch(table.getAttribute("data-progress"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (eps) {
          if (!eps) return;
          var busy = false;
          table.querySelectorAll("tr[data-slug]").forEach(function (row) {
            var p = eps[row.getAttribute("data-slug")];
            if (!p) return;
            row.querySelector(".state").textContent = p.state;
            var bar = row.querySelector("progress");
            bar.hidden = p.percent < 0;
            if (p.percent >= 0) bar.value = p.percent;
            row.querySelector(".left").textContent = p.left ? p.left + " left" : "";
            if (p.percent >= 0 || p.state === "ingested" || p.state === "encoded") busy = true;
          });
          var known = table.querySelectorAll("tr[data-slug]").length;
          if (Object.keys(eps).length !== known) { location.reload(); return; }
          if (busy) setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    setTimeout(poll, 2000);
  }

  // Upload: the notes go first, as a draft; the recording follows over
  // tus, naming the draft, and the two become one bundle in drop/.
  var form = document.getElementById("notes");
  if (!form || !form.hasAttribute("data-upload")) return;
  var status = document.getElementById("upload-status");
  var bar = document.getElementById("upload-progress");
  var say = function (text) { status.textContent = text; };
  form.addEventListener("submit", function (ev) {
    var submitter = ev.submitter;
    if (!submitter || submitter.value !== "upload") return; // preview: a plain post
    ev.preventDefault();
    var input = document.getElementById("recording");
    var file = input.files && input.files[0];
    if (!file) { say("Choose a recording first."); input.focus(); return; }
    if (!window.tus || !tus.isSupported) { say("This browser cannot upload resumably; drop the files in the show's drop/ folder instead."); return; }
    submitter.disabled = true;
    var hasNotes = form.elements.title.value.trim() !== "";
    var fields = new FormData(form);
    fields.delete("recording"); // the recording goes over tus, not with the notes
    var notes = hasNotes
      ? fetch(form.getAttribute("data-drafts"), { method: "POST", body: new URLSearchParams(fields), credentials: "same-origin",
          headers: { "X-CSRF-Token": csrf } })
          .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      : Promise.resolve({ ok: true, body: {} });
    notes.then(function (res) {
      if (!res.ok) {
        say("Please fix: " + (res.body.problems || ["the notes"]).join(" "));
        submitter.disabled = false;
        return;
      }
      var meta = { filename: file.name, filetype: file.type || "", show: form.getAttribute("data-show") };
      if (res.body.id) meta.draft = res.body.id;
      var upload = new tus.Upload(file, {
        endpoint: "/admin/uploads/",
        headers: { "X-CSRF-Token": csrf },
        metadata: meta,
        chunkSize: 16 * 1024 * 1024,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000],
        removeFingerprintOnSuccess: true,
        onProgress: function (sent, total) {
          bar.hidden = false;
          bar.value = Math.floor((sent / total) * 100);
          say("Uploading " + file.name + ": " + bar.value + "%");
        },
        onError: function (err) {
          say("The upload stopped: " + err.message + ". Choose the same file and press the button again to resume.");
          submitter.disabled = false;
        },
        onSuccess: function () {
          say("Uploaded. The episode is in drop/ and on its way; following it on the episodes page.");
          location.href = form.getAttribute("data-done");
        }
      });
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
        upload.start();
      });
    }).catch(function (err) {
      say("Cannot reach the desk: " + err + ". Try again.");
      submitter.disabled = false;
    });
  });
})();
