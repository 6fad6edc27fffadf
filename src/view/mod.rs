//! Plain view models shared by the window and the exports: timeline lanes, presets, the theme.
//! No egui here, so they can be tested and exported without a window.

pub mod presets;
pub mod theme;
pub mod timeline;
