//! The controller manager: every controller of the cluster over one set of shared caches,
//! optionally behind leader election so that several managers may run and only one acts.
//!
//! Without leader election the controllers start at once. With it, the manager campaigns for
//! the lease; on acquiring it the controllers start, and when the lease is lost (the renew
//! deadline passed) they are stopped and drained before the manager campaigns again. The renew
//! deadline is shorter than the lease duration, so the old leader has stopped acting before any
//! other candidate may take over: two managers never act at once.

use crate::client::ApiClient;
use crate::clock::Clock;
use crate::controller::Shutdown;
use crate::controllers::endpoints::{self, EndpointsConfig};
use crate::controllers::garbage_collector::{self, GarbageCollectorConfig};
use crate::controllers::namespace::{self, NamespaceConfig};
use crate::controllers::node_lifecycle::{self, NodeLifecycleConfig};
use crate::controllers::replication::{self, ReplicationConfig};
use crate::informer::SharedInformers;
use crate::leader_election::{LeaderElectionConfig, LeaderElectionError, LeaderElector};
use kube_core::leader::LeaderTiming;
use std::future::Future;
use std::pin::Pin;

/// The lease the controller managers elect their leader over (`kube-system/kube-controller-manager`).
pub const LEASE_NAME: &str = "kube-controller-manager";
/// The namespace of [`LEASE_NAME`].
pub const LEASE_NAMESPACE: &str = "kube-system";

/// Settings of the controller manager: one entry per controller (`None` turns it off).
#[derive(Clone, Debug)]
pub struct ControllerManagerConfig {
    /// The replication controller.
    pub replication: Option<ReplicationConfig>,
    /// The endpoints controller.
    pub endpoints: Option<EndpointsConfig>,
    /// The node lifecycle controller (heartbeats, evictions).
    pub node_lifecycle: Option<NodeLifecycleConfig>,
    /// The garbage collector (owner references, orphaning).
    pub garbage_collector: Option<GarbageCollectorConfig>,
    /// The namespace controller (empties and removes terminating namespaces).
    pub namespace: Option<NamespaceConfig>,
    /// Leader election over [`LEASE_NAME`]; `None` acts at once, alone.
    pub leader_election: Option<LeaderElectionConfig>,
    /// The source of time of every controller and of the election.
    pub clock: Clock,
}

impl Default for ControllerManagerConfig {
    fn default() -> Self {
        ControllerManagerConfig {
            replication: Some(ReplicationConfig::default()),
            endpoints: Some(EndpointsConfig::default()),
            node_lifecycle: Some(NodeLifecycleConfig::default()),
            garbage_collector: Some(GarbageCollectorConfig::default()),
            namespace: Some(NamespaceConfig::default()),
            leader_election: None,
            clock: Clock::real(),
        }
    }
}

impl ControllerManagerConfig {
    /// Every controller on `clock`, without leader election.
    pub fn with_clock(clock: Clock) -> Self {
        let mut c = ControllerManagerConfig {
            clock,
            ..ControllerManagerConfig::default()
        };
        c.set_clock();
        c
    }

    /// Elects over the default lease as `identity`, with client-go's default timing.
    pub fn elected_as(mut self, identity: impl Into<String>) -> Self {
        self.leader_election = Some(LeaderElectionConfig {
            namespace: LEASE_NAMESPACE.to_string(),
            name: LEASE_NAME.to_string(),
            identity: identity.into(),
            timing: LeaderTiming::default(),
        });
        self
    }

    /// Gives every controller the manager's clock.
    fn set_clock(&mut self) {
        if let Some(c) = &mut self.replication {
            c.clock = self.clock.clone();
        }
        if let Some(c) = &mut self.endpoints {
            c.clock = self.clock.clone();
        }
        if let Some(c) = &mut self.node_lifecycle {
            c.clock = self.clock.clone();
        }
        if let Some(c) = &mut self.garbage_collector {
            c.clock = self.clock.clone();
        }
        if let Some(c) = &mut self.namespace {
            c.clock = self.clock.clone();
        }
    }
}

/// Runs the controller manager against `client` until `shutdown`, on caches of its own.
pub async fn run<C: ApiClient>(
    client: C,
    config: ControllerManagerConfig,
    shutdown: Shutdown,
) -> Result<(), LeaderElectionError> {
    let informers = SharedInformers::new(client.clone(), config.clock.clone());
    let result = run_with(&informers, client, config, shutdown).await;
    informers.shutdown();
    result
}

/// Runs the controller manager on the shared caches of `informers` until `shutdown`.
pub async fn run_with<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: C,
    mut config: ControllerManagerConfig,
    shutdown: Shutdown,
) -> Result<(), LeaderElectionError> {
    config.set_clock();
    let Some(election) = config.leader_election.clone() else {
        run_controllers(informers, &client, &config, shutdown).await;
        return Ok(());
    };
    let identity = election.identity.clone();
    let leadership = LeaderElector::new(client.clone(), election, config.clock.clone())?.spawn();
    loop {
        tokio::select! {
            _ = shutdown.triggered() => break,
            acquired = leadership.acquired() => acquired?,
        }
        tracing::info!(%identity, "leading: starting the controllers");
        let term = Shutdown::new();
        let controllers = run_controllers(informers, &client, &config, term.clone());
        tokio::pin!(controllers);
        let lost = leadership.lost();
        tokio::select! {
            _ = &mut controllers => {}
            _ = lost => {
                tracing::warn!(%identity, "lost the lease: stopping the controllers");
                term.trigger();
                controllers.await;
            }
            _ = shutdown.triggered() => {
                term.trigger();
                controllers.await;
                break;
            }
        }
    }
    leadership.release().await;
    Ok(())
}

/// Runs the enabled controllers until `shutdown`, then waits for them all to drain.
async fn run_controllers<C: ApiClient>(
    informers: &SharedInformers<C>,
    client: &C,
    config: &ControllerManagerConfig,
    shutdown: Shutdown,
) {
    let mut running: Vec<Pin<Box<dyn Future<Output = ()> + Send + '_>>> = Vec::new();
    if let Some(c) = &config.replication {
        running.push(Box::pin(replication::run_with(
            informers,
            client.clone(),
            c.clone(),
            shutdown.clone(),
        )));
    }
    if let Some(c) = &config.endpoints {
        running.push(Box::pin(endpoints::run_with(
            informers,
            client.clone(),
            c.clone(),
            shutdown.clone(),
        )));
    }
    if let Some(c) = &config.node_lifecycle {
        running.push(Box::pin(node_lifecycle::run_with(
            informers,
            client.clone(),
            c.clone(),
            shutdown.clone(),
        )));
    }
    if let Some(c) = &config.garbage_collector {
        running.push(Box::pin(garbage_collector::run_with(
            informers,
            client.clone(),
            c.clone(),
            shutdown.clone(),
        )));
    }
    if let Some(c) = &config.namespace {
        running.push(Box::pin(namespace::run_with(
            informers,
            client.clone(),
            c.clone(),
            shutdown.clone(),
        )));
    }
    futures_util::future::join_all(running).await;
}
