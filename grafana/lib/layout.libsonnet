// Assigns gridPos and ids: a dashboard is a list of rows, each row a list of
// panels with a width `w` (grid units of 24) and a height `h`; panels of a row
// sit side by side, rows stack. A row whose widths exceed 24 is an error, so
// panels never overlap and never leave the grid.
{
  local sum(xs) = std.foldl(function(a, b) a + b, xs, 0),

  // rows: [[panel, ...], ...]; every panel has `w` and `h` (hidden fields).
  grid(rows)::
    local widths = [sum([p.w for p in row]) for row in rows];
    local heights = [std.foldl(std.max, [p.h for p in row], 0) for row in rows];
    local tops = [sum(heights[0:i]) for i in std.range(0, std.length(rows) - 1)];
    local placed = std.flattenArrays([
      local row = rows[r];
      if widths[r] > 24 then error 'layout: row %d is %d units wide (max 24): %s' % [r, widths[r], std.join(', ', [p.title for p in row])]
      else [
        row[i] { gridPos: { x: sum([q.w for q in row[0:i]]), y: tops[r], w: row[i].w, h: row[i].h } }
        for i in std.range(0, std.length(row) - 1)
      ]
      for r in std.range(0, std.length(rows) - 1)
    ]);
    [placed[i] { id: i + 1 } for i in std.range(0, std.length(placed) - 1)],
}
