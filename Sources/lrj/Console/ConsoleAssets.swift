/// The console's only script and style sheet, served by lrj itself (no CDN, no framework).
enum ConsoleAssets {
  /// Zone drawing: clicks on the still add normalised points to the search form's `zone` field.
  static let script = #"""
    "use strict";
    document.addEventListener("DOMContentLoaded", () => {
      const still = document.getElementById("still");
      const zone = document.getElementById("zone");
      if (!still || !zone) return;
      const shape = document.getElementById("zone-shape");
      const text = document.getElementById("zone-text");
      let points = zone.value.trim() ? zone.value.trim().split(/\s+/).map(p => p.split(",").map(Number)) : [];
      const clamp = v => Math.min(1, Math.max(0, v));
      function draw() {
        const s = points.map(p => p[0].toFixed(4) + "," + p[1].toFixed(4)).join(" ");
        zone.value = s;
        shape.setAttribute("points", s);
        text.textContent = s || "none";
      }
      still.addEventListener("click", event => {
        const r = still.getBoundingClientRect();
        points.push([clamp((event.clientX - r.left) / r.width), clamp((event.clientY - r.top) / r.height)]);
        draw();
      });
      document.getElementById("clear-zone").addEventListener("click", () => { points = []; draw(); });
      draw();
    });
    """#

  static let style = """
    body { font-family: sans-serif; margin: 0; color: #222; }
    header { background: #1d3557; color: #fff; padding: 8px 16px; }
    header a { color: #fff; text-decoration: none; margin-right: 4px; }
    header .who { float: right; opacity: 0.8; }
    main { padding: 8px 16px; }
    table { border-collapse: collapse; margin: 8px 0; }
    td, th { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; font-size: 13px; }
    code { font-size: 12px; }
    .error { color: #b00020; font-weight: bold; }
    .grid { display: flex; flex-wrap: wrap; gap: 8px; }
    .card { display: block; width: 200px; border: 1px solid #ccc; padding: 4px; color: #222; text-decoration: none; font-size: 12px; }
    .card img { display: block; max-width: 192px; max-height: 160px; margin: 0 auto 4px; }
    .still, .drawing img { max-width: 960px; width: 100%; display: block; }
    .drawing { position: relative; max-width: 960px; }
    .drawing svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
    .drawing polygon { fill: rgba(230, 57, 70, 0.25); stroke: #e63946; stroke-width: 2; vector-effect: non-scaling-stroke; }
    .drawing polyline { fill: none; stroke: #ffb703; stroke-width: 3; vector-effect: non-scaling-stroke; }
    #still { cursor: crosshair; }
    .overview { position: relative; max-width: 960px; }
    .overview img { width: 100%; display: block; }
    .overview svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
    .overview rect { fill: transparent; stroke: rgba(255, 183, 3, 0.6); stroke-width: 1; vector-effect: non-scaling-stroke; cursor: pointer; }
    .overview a:hover rect { fill: rgba(255, 183, 3, 0.25); }
    .thumbnail { max-width: 480px; display: block; margin: 8px 0; }
    video { max-width: 960px; width: 100%; background: #000; }
    form input, form select, form button { margin: 2px; }
    """
}
