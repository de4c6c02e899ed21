//! kube-runtime
