//! `node-label-controller [API server URL]`: labels every scheduled pod with its node
//! (default server `http://127.0.0.1:8080`) until interrupted.

use kube_runtime::cli::wait_for_signal;
use kube_runtime::client::HttpClient;
use kube_runtime::clock::Clock;
use kube_runtime::controller::{ControllerConfig, Shutdown};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_target(false).init();
    let master = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_string());
    let client = match HttpClient::new(&master) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("node-label-controller: {e}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("labelling pods of {}", client.base_url());
    node_label_controller::run(
        client,
        Clock::real(),
        ControllerConfig::default(),
        Shutdown::on(wait_for_signal()),
    )
    .await;
    ExitCode::SUCCESS
}
