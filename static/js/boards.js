// Boards: drag a tile to its place; the new order is saved at once. The tiles' Move up and
// Move down buttons do the same without JavaScript (and by keyboard).
(function () {
  "use strict";
  var dragged = null;
  var before = "";

  function tilesOf(list) {
    return Array.prototype.filter.call(list.children, function (child) {
      return child.hasAttribute("data-tile");
    });
  }

  function orderOf(list) {
    return tilesOf(list).map(function (tile) { return tile.getAttribute("data-tile"); });
  }

  // The first tile cannot move up, nor the last down.
  function markEnds(list) {
    var tiles = tilesOf(list);
    tiles.forEach(function (tile, i) {
      var up = tile.querySelector("button[data-move=up]");
      var down = tile.querySelector("button[data-move=down]");
      if (up) up.disabled = i === 0;
      if (down) down.disabled = i === tiles.length - 1;
    });
  }

  function save(list) {
    var body = new URLSearchParams();
    body.append("csrf_token", list.getAttribute("data-csrf"));
    orderOf(list).forEach(function (id) { body.append("tile", id); });
    fetch(list.getAttribute("data-order-url"), {
      method: "POST", body: body, credentials: "same-origin", headers: {"HX-Request": "true"}
    }).then(function (response) {
      if (!response.ok) window.location.reload();  // refused: show the board as it is stored
    }, function () { window.location.reload(); });
  }

  function tileAt(target) {
    return target && target.closest ? target.closest("li[data-tile]") : null;
  }

  document.addEventListener("dragstart", function (event) {
    var tile = tileAt(event.target);
    if (!tile || !tile.parentNode.hasAttribute("data-order-url")) return;
    dragged = tile;
    before = orderOf(tile.parentNode).join(",");
    tile.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", tile.getAttribute("data-tile"));
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var over = tileAt(event.target);
    if (!over || over.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    if (over === dragged) return;
    // above the tile's diagonal (towards its top left), the dragged tile goes before it;
    // below, after it
    var box = over.getBoundingClientRect();
    var past = (event.clientX - box.left) / box.width + (event.clientY - box.top) / box.height > 1;
    over.parentNode.insertBefore(dragged, past ? over.nextSibling : over);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });

  document.addEventListener("dragend", function () {
    if (!dragged) return;
    var list = dragged.parentNode;
    dragged.classList.remove("dragging");
    dragged = null;
    markEnds(list);
    if (orderOf(list).join(",") !== before) save(list);
  });
})();
