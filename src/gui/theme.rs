//! egui styling: turns the shared palette into egui visuals, and the presentation scale.

use egui::Color32;

use crate::view::theme::{DARK, LIGHT, Palette, Rgb};

/// An egui colour from a palette colour.
pub fn c32(c: Rgb) -> Color32 {
    Color32::from_rgb(c.0, c.1, c.2)
}

/// The palette of the chosen theme.
pub fn palette(dark: bool) -> Palette {
    if dark { DARK } else { LIGHT }
}

/// Zoom factor of the presentation scale.
pub const PRESENTATION_ZOOM: f32 = 1.5;

/// Body text size in presentation mode, in points: ×[`PRESENTATION_ZOOM`] it is 24 px, readable
/// from the back of a room on a 1920×1080 projector.
pub const PRESENTATION_BODY: f32 = 16.0;

/// Applies the theme and scale to the context (cheap to call every frame: only sets on change).
pub fn apply(ctx: &egui::Context, dark: bool, presentation: bool) {
    let want_zoom = if presentation { PRESENTATION_ZOOM } else { 1.0 };
    if (ctx.zoom_factor() - want_zoom).abs() > f32::EPSILON {
        ctx.set_zoom_factor(want_zoom);
    }
    // egui's own text sizes, read once: this runs every frame.
    static DEFAULT_SIZES: std::sync::OnceLock<Vec<(egui::TextStyle, f32)>> =
        std::sync::OnceLock::new();
    let defaults = DEFAULT_SIZES.get_or_init(|| {
        egui::Style::default()
            .text_styles
            .into_iter()
            .map(|(style, font)| (style, font.size))
            .collect()
    });
    let size_of = |sizes: &[(egui::TextStyle, f32)]| {
        sizes
            .iter()
            .find(|(s, _)| *s == egui::TextStyle::Body)
            .map_or(1.0, |(_, size)| *size)
    };
    let default_body = size_of(defaults);
    let want_body = if presentation {
        PRESENTATION_BODY
    } else {
        default_body
    };
    let body_now = ctx
        .global_style()
        .text_styles
        .get(&egui::TextStyle::Body)
        .map_or(0.0, |f| f.size);
    if (body_now - want_body).abs() > f32::EPSILON {
        let scale = want_body / default_body.max(1.0);
        ctx.global_style_mut(|s| {
            for (style, size) in defaults {
                if let Some(font) = s.text_styles.get_mut(style) {
                    font.size = size * scale;
                }
            }
        });
    }
    let is_dark = ctx.global_style().visuals.dark_mode;
    if is_dark != dark {
        let mut v = if dark {
            egui::Visuals::dark()
        } else {
            egui::Visuals::light()
        };
        let p = palette(dark);
        v.panel_fill = c32(p.background);
        v.window_fill = c32(p.background);
        ctx.set_visuals(v);
    }
}
