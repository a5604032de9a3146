/* Playlister's page script: tells the server the browser's time zone, and lets notices go.
   No framework: htmx does the rest. */
(function () {
  "use strict";
  // The server shows times in the zone this cookie names (jobs/views/zone.py). The first page
  // a browser sees (the login page) is in the server's zone; the footer says which.
  var zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (e) {
    zone = "";
  }
  var had = /(?:^|;\s*)tz=([^;]*)/.exec(document.cookie);
  if (/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone) && (!had || had[1] !== zone)) {
    document.cookie = "tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }

  // A notice with data-dismiss="N" (seconds) goes by itself; the next one replaces it anyway.
  function dismissLater(element) {
    var seconds = Number(element.getAttribute("data-dismiss")) || 6;
    window.setTimeout(function () {
      element.classList.add("dismissed");
      window.setTimeout(function () { element.remove(); }, 400);
    }, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.htmx) { return; }
    window.htmx.onLoad(function (root) {
      if (root.matches && root.matches("[data-dismiss]")) { dismissLater(root); }
      if (root.querySelectorAll) { root.querySelectorAll("[data-dismiss]").forEach(dismissLater); }
    });
  });
})();
