// A little script on top of pages that work without it: live tree filtering, agents loaded
// when a group is opened, and a live import progress bar.
"use strict";

// Agents of a group are fetched (as server-rendered HTML) the first time its node opens.
function loadAgents(placeholder) {
  const url = placeholder.dataset.agentsUrl;
  if (!url || placeholder.dataset.loading) return;
  placeholder.dataset.loading = "1";
  fetch(url, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
    .then((html) => {
      const template = document.createElement("template");
      template.innerHTML = html;
      placeholder.replaceWith(template.content);
    })
    .catch(() => { delete placeholder.dataset.loading; });
}

function setUpTree() {
  const tree = document.getElementById("group-tree");
  if (!tree) return;
  tree.addEventListener("toggle", (event) => {
    const details = event.target;
    // A node the filter opened fetches nothing: one keystroke can open hundreds of groups.
    if (!details.open || details.dataset.filterOpened) return;
    const lazy = details.querySelector(":scope > ul > li.lazy");
    if (lazy) loadAgents(lazy);
  }, true);
  tree.addEventListener("click", (event) => {
    // Opened or closed by hand (this runs before the toggle), a node is the user's again.
    const summary = event.target.closest("summary");
    if (summary) delete summary.parentElement.dataset.filterOpened;
    const more = event.target.closest("li.more");
    if (more) { event.preventDefault(); loadAgents(more); }
  });

  // Filtering as you type: a group stays when its name, or a name below it, matches.
  const filter = document.getElementById("tree-filter");
  if (!filter) return;
  filter.addEventListener("input", () => {
    const needle = filter.value.trim().toLowerCase();
    const groups = Array.from(tree.querySelectorAll("li.group"));
    for (const group of groups) {
      const names = [group.dataset.name].concat(Array.from(group.querySelectorAll("li.group")).map((g) => g.dataset.name));
      const agents = Array.from(group.querySelectorAll(":scope > details > ul > li.agent")).map((a) => a.textContent.toLowerCase());
      const match = !needle || names.concat(agents).some((name) => name && name.includes(needle));
      group.classList.toggle("hidden", !match);
      const details = group.querySelector(":scope > details");
      if (needle && match && !details.open) {
        details.dataset.filterOpened = "1";
        details.open = true;
      }
      // Emptied, the filter closes again what it opened.
      if (!needle && details.dataset.filterOpened) {
        delete details.dataset.filterOpened;
        details.open = false;
      }
    }
    searchAgents(needle, groups.some((group) => !group.classList.contains("hidden")));
  });
}

// Agents of groups never opened are not in the page: the server searches every agent this
// administrator sees, a moment after the typing stops, and lists them above the tree. Only
// when neither finds anything does the tree say "No matches".
let searchTimer = 0;
let searchWanted = "";
function searchAgents(needle, groupsShown) {
  const box = document.getElementById("tree-matches");
  const message = document.getElementById("tree-no-matches");
  if (!box || !message) return;
  // An answer still on its way for what was typed before is dropped when it comes.
  searchWanted = needle;
  const settle = (agentsFound) => message.classList.toggle("hidden", !needle || groupsShown || agentsFound);
  clearTimeout(searchTimer);
  if (!needle) { box.replaceChildren(); settle(false); return; }
  // While the answer is on its way the message waits: it may be about to be wrong.
  message.classList.add("hidden");
  searchTimer = setTimeout(() => {
    const url = box.dataset.searchUrl + "?q=" + encodeURIComponent(needle);
    fetch(url, { credentials: "same-origin" })
      .then((response) => (response.ok ? response.text() : Promise.reject(response.status)))
      .then((html) => {
        if (searchWanted !== needle) return;
        const template = document.createElement("template");
        template.innerHTML = html;
        box.replaceChildren(template.content);
        settle(box.querySelector("li.agent") !== null);
      })
      .catch(() => { if (searchWanted === needle) settle(false); });
  }, 250);
}

// The list of failed rows grows while the import runs: built from text, never from HTML.
function showRowErrors(box, job) {
  const details = box.querySelector(".row-errors");
  if (!details || !job.row_errors) return;
  const list = details.querySelector("ul");
  list.replaceChildren(...job.row_errors.map((error) => {
    const item = document.createElement("li");
    item.textContent = "Row " + error.row + ": " + error.message;
    return item;
  }));
  details.hidden = job.row_errors.length === 0;
  const more = job.failed - job.row_errors.length;
  const hint = details.querySelector(".more-errors");
  hint.hidden = more <= 0;
  hint.querySelector(".more-count").textContent = String(more);
}

// While an import runs, its status is polled and the bar moves; at the end the page reloads
// to show the notification bar and the result link.
function setUpProgress() {
  const box = document.querySelector("[data-import-status]");
  if (!box) return;
  const bar = box.querySelector("progress");
  const text = box.querySelector(".progress-text");
  const poll = () => {
    fetch(box.dataset.importStatus, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((job) => {
        if (job.state !== "queued" && job.state !== "running") {
          // Without "?done=import-queued": its "File accepted" notice is stale by now.
          const url = new URL(window.location.href);
          url.searchParams.delete("done");
          window.location.replace(url.toString());
          return;
        }
        if (job.total_rows) { bar.max = job.total_rows; bar.value = job.done_rows; }
        text.textContent = job.progress_text;
        showRowErrors(box, job);
        setTimeout(poll, 1000);
      })
      .catch(() => setTimeout(poll, 3000));
  };
  setTimeout(poll, 1000);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpTree();
  setUpProgress();
});
