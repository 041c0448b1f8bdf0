// The phone layout of the library page: one part at a time (find a song,
// my songs, the shared library), chosen from a bar at the bottom of the
// screen. The part shown is kept in the address (#songs), so reloading or
// going back returns to it. Without this script every part is shown.

const bar = document.getElementById("tab-bar");
const buttons = [...bar.querySelectorAll("button[data-show]")];
const names = buttons.map((button) => button.dataset.show);

function show(name) {
  const chosen = names.includes(name) ? name : names[0];
  for (const panel of document.querySelectorAll("[data-tab]")) {
    panel.hidden = panel.dataset.tab !== chosen;
  }
  for (const button of buttons) {
    button.setAttribute("aria-pressed", String(button.dataset.show === chosen));
  }
}

for (const button of buttons) {
  button.addEventListener("click", () => {
    history.replaceState(null, "", `#${button.dataset.show}`);
    show(button.dataset.show);
    window.scrollTo(0, 0);
  });
}
window.addEventListener("hashchange", () => show(location.hash.slice(1)));
show(location.hash.slice(1));
