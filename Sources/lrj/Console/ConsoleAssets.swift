/// The console's only script and style sheet, served by lrj itself (no CDN, no framework).
enum ConsoleAssets {
  /// Zone drawing: clicks on the still add normalised points to the search form's `zone` field,
  /// or to its `origin` field (zone A of the rule "from A to this zone") when that is being drawn.
  static let script = #"""
    "use strict";
    document.addEventListener("DOMContentLoaded", () => {
      const still = document.getElementById("still");
      if (!still) return;
      const parse = value => value.trim() ? value.trim().split(/\s+/).map(p => p.split(",").map(Number)) : [];
      const targets = {};
      for (const name of ["zone", "origin"]) {
        const field = document.getElementById(name);
        targets[name] = { field, points: parse(field.value), shape: document.getElementById(name + "-shape"),
                          text: document.getElementById(name + "-text") };
      }
      let active = "zone";
      const clamp = v => Math.min(1, Math.max(0, v));
      function draw(target) {
        const s = target.points.map(p => p[0].toFixed(4) + "," + p[1].toFixed(4)).join(" ");
        target.field.value = s;
        target.shape.setAttribute("points", s);
        target.text.textContent = s || "none";
      }
      document.querySelectorAll("input[name=drawing]").forEach(radio =>
        radio.addEventListener("change", () => { if (radio.checked) active = radio.value; }));
      still.addEventListener("click", event => {
        const r = still.getBoundingClientRect();
        targets[active].points.push([clamp((event.clientX - r.left) / r.width), clamp((event.clientY - r.top) / r.height)]);
        draw(targets[active]);
      });
      document.getElementById("clear-zone").addEventListener("click", () => { targets[active].points = []; draw(targets[active]); });
      Object.values(targets).forEach(draw);
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
    .card a { color: #222; text-decoration: none; }
    svg.timeline { display: block; width: 100%; height: 40px; background: #f2f2f2; margin-bottom: 6px; }
    svg.timeline rect { fill: #2a5db0; }
    svg.timeline a:hover rect { fill: #d33; }
    .timeline-camera { margin: 4px 0 0; font-size: 12px; }
    .still, .drawing img { max-width: 960px; width: 100%; display: block; }
    .drawing { position: relative; max-width: 960px; }
    .drawing svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; pointer-events: none; }
    .drawing polygon { fill: rgba(230, 57, 70, 0.25); stroke: #e63946; stroke-width: 2; vector-effect: non-scaling-stroke; }
    .drawing polygon.origin { fill: rgba(69, 123, 157, 0.25); stroke: #457b9d; }
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
