//! Timeline model (filled in by the timeline work).
use crate::engine::summary::RunOutcome;
/// Lanes of a run.
pub struct TimelineModel;
impl TimelineModel {
    /// From a finished run.
    pub fn from_outcome(_o: &RunOutcome) -> Self {
        Self
    }
}
