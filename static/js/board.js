// The coordinator's board (templates/visits/board/): bring the card that needs her into view and give it focus.
//   - /schedule/?visit=<id> (the alert queue's link) marks that visit's card data-board-focus: scroll to it, focus it;
//   - "Remove nurse…", "Cancel visit…", "Mark missed…" answer with the card asking "are you sure?": focus its
//     "Yes" button (data-confirm-focus) so the keyboard lands on the question, not at the top of the page.
(function () {
  "use strict";

  function bringIntoView(root) {
    var element = root.querySelector("[data-confirm-focus]") || root.querySelector("[data-board-focus]");
    if (!element) { return; }
    element.scrollIntoView({ block: "center" });
    element.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", function () { bringIntoView(document); });

  document.addEventListener("htmx:afterSettle", function (event) {
    var swapped = event.target;
    if (swapped && swapped.querySelector) {
      bringIntoView(swapped.matches("[data-confirm-focus], [data-board-focus]") ? swapped.parentNode : swapped);
    }
  });
})();
