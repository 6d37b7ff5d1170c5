// prodcast's pages: links with data-start seek the player (without script
// they open the audio at that time); the transcript and the chapters follow
// the audio; ?t=1m30s starts there; the feed URL copies in one click.
(function () {
  "use strict";
  var player = document.getElementById("player");

  // A time as people write it: 90, 90s, 1m30s, 1h2m3s, 1:30, 01:02:03.
  function parseTime(s) {
    if (!s) return NaN;
    var m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$/.exec(s);
    if (m && (m[1] || m[2] || m[3])) return (+m[1] || 0) * 3600 + (+m[2] || 0) * 60 + (+m[3] || 0);
    var parts = s.split(":");
    if (parts.length < 2 || parts.length > 3) return NaN;
    var t = 0;
    for (var i = 0; i < parts.length; i++) {
      if (!/^\d+(\.\d+)?$/.test(parts[i])) return NaN;
      t = t * 60 + parseFloat(parts[i]);
    }
    return t;
  }

  function seek(t, play) {
    player.currentTime = t;
    if (play) player.play().catch(function () {});
  }

  // Marks, in a list of elements that start at times, the one playing.
  function follower(selector, scroll) {
    var items = Array.prototype.map.call(document.querySelectorAll(selector), function (a) {
      return { start: parseFloat(a.dataset.start), el: a.closest("p, li") };
    });
    var current = null;
    return function (now) {
      var lo = 0, hi = items.length - 1, found = null;
      while (lo <= hi) { // the last item that starts at or before now
        var mid = (lo + hi) >> 1;
        if (items[mid].start <= now + 0.05) { found = items[mid]; lo = mid + 1; } else { hi = mid - 1; }
      }
      if (found === current) return;
      if (current) { current.el.classList.remove("now"); current.el.removeAttribute("aria-current"); }
      current = found;
      if (!current) return;
      current.el.classList.add("now");
      current.el.setAttribute("aria-current", "time");
      if (scroll && !player.paused) current.el.scrollIntoView({ block: "nearest", behavior: "smooth" });
    };
  }

  if (player) {
    document.addEventListener("click", function (e) {
      var a = e.target.closest("a.seek");
      if (!a) return;
      e.preventDefault();
      seek(parseFloat(a.dataset.start), true);
    });
    var followers = [follower(".transcript a.seek[data-start]", true), follower(".chapters a.seek[data-start]", false)];
    player.addEventListener("timeupdate", function () {
      for (var i = 0; i < followers.length; i++) followers[i](player.currentTime);
    });
    var t = parseTime(new URLSearchParams(location.search).get("t"));
    if (!isNaN(t)) {
      if (player.readyState >= 1) seek(t, false);
      else player.addEventListener("loadedmetadata", function () { seek(t, false); }, { once: true });
    }
  }

  Array.prototype.forEach.call(document.querySelectorAll("button.copy[data-copy]"), function (b) {
    var field = document.getElementById(b.dataset.copy);
    if (!field || !navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(function () {
        b.textContent = "Copied";
        setTimeout(function () { b.textContent = "Copy"; }, 2000);
      }, function () { field.select(); });
    });
  });
})();
