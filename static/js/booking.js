// Booking page: show the free times in the visitor's own time zone.
// Without JavaScript the practice's zone is preselected and the select still works; here we only
// preselect the zone the browser reports and reload the times in place. The address is left as it
// is: the visitor did not choose anything, and a reload simply detects the zone again.
(function () {
  "use strict";

  function useBrowserZone() {
    var select = document.querySelector("select[data-detect-zone]");
    // A zone in the address was chosen on purpose: keep it.
    if (!select || !window.htmx || new URLSearchParams(window.location.search).has("tz")) return;
    var zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (!zone || zone === select.value) return;
    var known = Array.prototype.some.call(select.options, function (option) { return option.value === zone; });
    if (!known) return;
    select.value = zone;
    var query = new URLSearchParams();
    new FormData(select.form).forEach(function (value, name) {
      if (name === "therapist" || name === "tz" || name === "week") query.append(name, value);
    });
    window.htmx.ajax("GET", select.getAttribute("hx-get") + "?" + query.toString(), { target: "#slot-region", swap: "innerHTML" });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", useBrowserZone);
  } else {
    useBrowserZone();
  }
})();
