//! The seed's v1beta1 wire format, converted at the API edge. STUB: implementation in progress.
