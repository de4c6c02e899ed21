//! Test kit for this project's tests and for programs that embed the library.

pub mod faulty_store;

pub use faulty_store::{Fault, FaultyStore, StoreOp, Times};
