// hookq console: regions that refresh themselves. A region names the URL of its own
// server-rendered HTML (data-refresh) and how often to fetch it (data-every, seconds). The HTML
// comes from the console's templates, where every value is escaped: nothing here builds markup
// from data. A session that ended (the fetch was redirected to the login page) reloads the page,
// which then goes to the login page itself.
"use strict";

function refreshing(region) {
  const every = Math.max(1, Number(region.dataset.every) || 5) * 1000;
  async function tick() {
    if (!document.hidden) {
      try {
        const response = await fetch(region.dataset.refresh, {
          credentials: "same-origin",
          headers: { Accept: "text/html" },
        });
        if (response.redirected) {
          window.location.reload();
          return;
        }
        if (response.ok) {
          region.innerHTML = await response.text();
          region.dataset.refreshed = String(Date.now());
        }
      } catch (error) {
        // The console is restarting or the network is away: try again at the next tick.
      }
    }
    window.setTimeout(tick, every);
  }
  window.setTimeout(tick, every);
}

document.querySelectorAll("[data-refresh]").forEach(refreshing);
