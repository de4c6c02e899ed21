//! The scheduler tests build objects with kube-core's public builders ([`crate::testing`]);
//! this adds the short `pod(..)`/`node(..)` constructors and `info()` for the scheduler's views.

use crate::scheduler::{NodeInfo, PodInfo};
pub use crate::testing::{NodeBuilder, PodBuilder};

/// A node called `name` with nothing set.
pub fn node(name: &str) -> NodeBuilder {
    NodeBuilder::new(name)
}

/// A pod called `name` in namespace `default`, with no containers.
pub fn pod(name: &str) -> PodBuilder {
    PodBuilder::new(name)
}

/// The scheduler's precomputed view of a built object.
pub trait Info {
    /// `NodeInfo` or `PodInfo`.
    type Info;
    /// Builds the object and its view.
    fn info(self) -> Self::Info;
}

impl Info for NodeBuilder {
    type Info = NodeInfo;
    fn info(self) -> NodeInfo {
        NodeInfo::new(&self.build())
    }
}

impl Info for PodBuilder {
    type Info = PodInfo;
    fn info(self) -> PodInfo {
        PodInfo::new(&self.build())
    }
}
