//! Drawing helpers shared by the figures: integer axes, markers, captions, legends.

use super::*;

/// Integer ticks from `lo` to `hi` (inclusive), at most about 12, on a 1-2-5 step.
pub(super) fn integer_ticks(lo: i64, hi: i64) -> Vec<i64> {
    let span = (hi - lo).max(1);
    let mut step = 1i64;
    'find: for scale in [1i64, 10, 100, 1_000, 10_000, 100_000] {
        for m in [1i64, 2, 5] {
            step = m * scale;
            if span / step <= 12 {
                break 'find;
            }
        }
    }
    let first = lo.div_euclid(step) * step;
    let first = if first < lo { first + step } else { first };
    (0..)
        .map(|i| first + i * step)
        .take_while(|&t| t <= hi)
        .collect()
}

/// The x range: half a step beyond the extreme points, and at least one unit either side.
pub(super) fn x_range(points: impl Iterator<Item = i64>) -> (i64, i64) {
    let (lo, hi) = points.fold((i64::MAX, i64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    if lo > hi {
        return (0, 2);
    }
    if lo == hi {
        return (lo.saturating_sub(1), hi.saturating_add(1));
    }
    (lo, hi)
}

/// A linear f64 axis whose ticks are exactly `ticks` (plotters' own f64 axis picks
/// "nice" ticks such as 2.5, which a depth axis must not have).
pub(super) struct Axis {
    pub(super) range: Range<f64>,
    pub(super) ticks: Vec<f64>,
}

impl Axis {
    pub(super) fn new(range: Range<f64>, ticks: impl IntoIterator<Item = f64>) -> Axis {
        Axis {
            range,
            ticks: ticks.into_iter().collect(),
        }
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if span <= 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let fraction = (value - self.range.start) / span;
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only bold mesh lines, at the ticks; no light lines between them.
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// A marker of shape `shape` (0 circle, 1 square, 2 triangle, 3 diamond, 4 inverted
/// triangle) as polygon vertices around (0, 0), `r` pixels in size.
pub(super) fn marker_outline(shape: usize, r: i32) -> Vec<(i32, i32)> {
    match shape % SHAPES {
        0 => (0..16)
            .map(|i| {
                let a = f64::from(i) * std::f64::consts::PI / 8.0;
                (
                    (f64::from(r) * a.cos()).round() as i32,
                    (f64::from(r) * a.sin()).round() as i32,
                )
            })
            .collect(),
        1 => {
            let s = r * 7 / 8;
            vec![(-s, -s), (s, -s), (s, s), (-s, s)]
        }
        2 => vec![(0, -r - 1), (r, r * 3 / 4), (-r, r * 3 / 4)],
        3 => vec![(0, -r - 1), (r, 0), (0, r + 1), (-r, 0)],
        _ => vec![(0, r + 1), (r, -r * 3 / 4), (-r, -r * 3 / 4)],
    }
}

/// Draws a filled marker (or a white one with a coloured outline when `hollow`) centred
/// at pixel `at` of `area`.
pub(super) fn draw_marker(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    at: (i32, i32),
    shape: usize,
    color: RGBColor,
    hollow: bool,
) -> Result<(), PlotError> {
    let outline: Vec<(i32, i32)> = marker_outline(shape, 5)
        .into_iter()
        .map(|(x, y)| (at.0 + x, at.1 + y))
        .collect();
    let fill = if hollow { WHITE } else { color };
    let mut closed = outline.clone();
    closed.push(outline[0]);
    area.draw(&Polygon::new(outline, fill.filled()))
        .map_err(err)?;
    area.draw(&PathElement::new(closed, color.stroke_width(2)))
        .map_err(err)
}

/// The pixel of data point `c` in the chart's plotting area (for [`draw_marker`]).
pub(super) fn pixel<X, Y>(
    chart: &ChartContext<'_, SVGBackend<'_>, Cartesian2d<X, Y>>,
    c: (f64, f64),
) -> (i32, i32)
where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let (x, y) = chart.backend_coord(&c);
    let (bx, by) = chart.plotting_area().get_base_pixel();
    (x - bx, y - by)
}

pub(super) fn err(e: impl std::error::Error + Send + Sync + 'static) -> PlotError {
    PlotError::Draw(Box::new(e))
}

/// Writes `text` lines at the bottom area (the caption).
pub(super) fn draw_caption(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    lines: &[String],
) -> Result<(), PlotError> {
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(
            line.clone(),
            (16, 4 + CAPTION_LINE as i32 * i32::try_from(i).unwrap_or(0)),
            (FONT, 16).into_font().color(&TEXT),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Splits a caption into lines of at most `width` characters, at spaces.
pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub(super) const LEGEND_WIDTH: u32 = 230;
pub(super) const CAPTION_LINE: u32 = 19;

/// The legend: `(label, shape, colour, hollow)` rows, top left of `area`.
pub(super) fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(String, usize, RGBColor, bool)],
) -> Result<(), PlotError> {
    for (i, (label, shape, color, hollow)) in entries.iter().enumerate() {
        let y = 48 + 22 * i32::try_from(i).unwrap_or(0);
        area.draw(&PathElement::new(
            vec![(6, y), (30, y)],
            color.stroke_width(2),
        ))
        .map_err(err)?;
        draw_marker(area, (18, y), *shape, *color, *hollow)?;
        area.draw(&Text::new(
            label.clone(),
            (38, y - 7),
            (FONT, 16).into_font().color(&TEXT),
        ))
        .map_err(err)?;
    }
    Ok(())
}
