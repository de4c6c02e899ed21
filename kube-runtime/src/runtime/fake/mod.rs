//! `FakeRuntime`: an in-memory `ContainerRuntime` on the project's clock, for tests of code
//! that drives containers (the kubelet's own, and embedders') and for simulated ("hollow")
//! nodes. It behaves like Docker where the contract suite checks it, records every call, and
//! lets a test inject errors, make a container exit, hang or crash-loop, and configure each
//! image's behaviour.
//!
//! Time-based transitions (a container that exits after `run_for`) are computed when the
//! container is observed, so a container costs no task or timer. Pod IPs are loopback
//! addresses from `127.1.0.1` upward, so probes sent to fake pods never leave the machine;
//! they are unique across every `FakeRuntime` of the process, so simulated nodes sharing one
//! process never report the same pod IP. Image references compare as Docker's do (`busybox`,
//! `busybox:latest` and `docker.io/library/busybox` are one image).

mod controls;
mod state;

pub use controls::{FakeCall, FakeMethod, ImageBehaviour, MAX_RECORDED_CALLS};

use crate::clock::Clock;
use async_trait::async_trait;
use kube_core::runtime::{
    ContainerConfig, ContainerInfo, ContainerRunState, ContainerRuntime, ContainerSummary,
    ExecResult, ImageInfo, ListFilter, LogOptions, LogStream, NetworkMode, RuntimeError,
    RuntimeVersion,
};
use state::{fnv, image_id, image_key, info, next_pod_ip, tail, Container, Run, State};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// An in-memory container runtime; clones share the same state.
#[derive(Clone)]
pub struct FakeRuntime {
    clock: Clock,
    state: Arc<Mutex<State>>,
}

impl FakeRuntime {
    /// An empty runtime (no images, no containers) on `clock`.
    pub fn new(clock: Clock) -> FakeRuntime {
        FakeRuntime {
            clock,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// A runtime for a simulated ("hollow") node: every image can be pulled and starts at
    /// once, and calls are not recorded.
    pub fn simulated(clock: Clock) -> FakeRuntime {
        let fake = FakeRuntime::new(clock);
        {
            let mut st = fake.lock();
            st.default_behaviour = ImageBehaviour {
                pullable: true,
                ..ImageBehaviour::default()
            };
            st.calls_off = true;
        }
        fake
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes an image present locally. Image references are compared as Docker does:
    /// `busybox`, `busybox:latest` and `docker.io/library/busybox:latest` are one image.
    pub fn add_image(&self, image: &str) {
        let key = image_key(image);
        let id = image_id(&key);
        self.lock().images.insert(key, id);
    }

    /// Removes a local image.
    pub fn remove_image(&self, image: &str) {
        self.lock().images.remove(&image_key(image));
    }

    /// Sets how containers of `image` behave (from their next start).
    pub fn set_image_behaviour(&self, image: &str, behaviour: ImageBehaviour) {
        self.lock().behaviours.insert(image_key(image), behaviour);
    }

    /// Sets how containers of images without a behaviour of their own behave (simulated nodes
    /// make every image pullable this way).
    pub fn set_default_behaviour(&self, behaviour: ImageBehaviour) {
        self.lock().default_behaviour = behaviour;
    }

    /// Makes a running container's process exit now with `code` (as `docker kill` or a crash
    /// would). Returns whether it was running.
    pub fn exit_container(&self, id: &str, code: i64) -> bool {
        let now = self.clock.now();
        let mut s = self.lock();
        let behaviour = match s.container(id) {
            Ok(c) => c.config.image.clone(),
            Err(_) => return false,
        };
        let behaviour = s.behaviour(&behaviour);
        let Ok(c) = s.container(id) else {
            return false;
        };
        if c.settle(now, &behaviour) != ContainerRunState::Running {
            return false;
        }
        if let Some(run) = &mut c.run {
            run.finished = Some((now, code));
        }
        true
    }

    /// Sets what `exec` in this container returns (default: exit 0, no output).
    pub fn set_exec_result(&self, id: &str, exit_code: i64, output: Vec<u8>) {
        if let Ok(c) = self.lock().container(id) {
            c.exec_result = Some((exit_code, output));
            c.exec_hangs = false;
        }
    }

    /// Makes `exec` in this container never answer (the caller's timeout fires).
    pub fn hang_exec(&self, id: &str) {
        if let Ok(c) = self.lock().container(id) {
            c.exec_hangs = true;
        }
    }

    /// Appends output to a container's log.
    pub fn append_log(&self, id: &str, bytes: &[u8]) {
        if let Ok(c) = self.lock().container(id) {
            c.logs.extend_from_slice(bytes);
        }
    }

    /// Makes the next `times` calls of `method` fail with `error`.
    pub fn inject_error(&self, method: FakeMethod, error: RuntimeError, times: usize) {
        let mut s = self.lock();
        let q = s.errors.entry(method).or_default();
        q.extend(std::iter::repeat_n(error, times));
    }

    /// While set, every call fails with `Unavailable` (the daemon is down).
    pub fn set_unavailable(&self, unavailable: bool) {
        self.lock().unavailable = unavailable;
    }

    /// The recorded calls, oldest first (at most [`MAX_RECORDED_CALLS`]).
    pub fn calls(&self) -> Vec<FakeCall> {
        self.lock().calls.iter().cloned().collect()
    }

    /// Turns call recording on (the default) or off. Simulated nodes turn it off: a full
    /// record costs hundreds of kilobytes per runtime, and nobody reads it.
    pub fn set_call_recording(&self, on: bool) {
        let mut s = self.lock();
        s.calls_off = !on;
        if !on {
            s.calls = VecDeque::new();
        }
    }

    /// Forgets the recorded calls.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// The config a container was created with.
    pub fn container_config(&self, id: &str) -> Option<ContainerConfig> {
        self.lock()
            .container(id)
            .ok()
            .map(|c| c.config.as_ref().clone())
    }

    /// Every container as inspected now.
    pub fn containers(&self) -> Vec<ContainerInfo> {
        let now = self.clock.now();
        let mut s = self.lock();
        let ids: Vec<String> = s.containers.keys().cloned().collect();
        ids.iter()
            .filter_map(|id| info(&mut s, id, now).ok())
            .collect()
    }

    /// Records a call and returns the error to answer with, if any.
    fn enter(
        &self,
        method: FakeMethod,
        call: FakeCall,
    ) -> Result<MutexGuard<'_, State>, RuntimeError> {
        let mut s = self.lock();
        if !s.calls_off {
            if s.calls.len() == MAX_RECORDED_CALLS {
                s.calls.pop_front();
            }
            s.calls.push_back(call);
        }
        if s.unavailable {
            return Err(RuntimeError::Unavailable(
                "Cannot connect to the fake runtime (set unavailable)".into(),
            ));
        }
        if let Some(e) = s.errors.get_mut(&method).and_then(VecDeque::pop_front) {
            return Err(e);
        }
        Ok(s)
    }
}

#[async_trait]
impl ContainerRuntime for FakeRuntime {
    async fn version(&self) -> Result<RuntimeVersion, RuntimeError> {
        drop(self.enter(FakeMethod::Version, FakeCall::Version)?);
        Ok(RuntimeVersion {
            name: "fake".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api_version: "1.41".into(),
        })
    }

    async fn list_containers(
        &self,
        filter: &ListFilter,
    ) -> Result<Vec<ContainerSummary>, RuntimeError> {
        let now = self.clock.now();
        let mut guard = self.enter(FakeMethod::List, FakeCall::List)?;
        // One pass, no inspect: the relist of every simulated node runs this each second.
        let s = &mut *guard;
        let mut behaviours: HashMap<String, ImageBehaviour> = HashMap::new();
        let mut out = Vec::new();
        for c in s.containers.values_mut() {
            if !filter.matches_labels(&c.config.labels) {
                continue;
            }
            let image = &c.config.image;
            if !behaviours.contains_key(image) {
                let b = s.behaviours.get(&image_key(image)).cloned();
                let b = b.unwrap_or_else(|| s.default_behaviour.clone());
                behaviours.insert(image.clone(), b);
            }
            let Some(behaviour) = behaviours.get(&c.config.image) else {
                continue;
            };
            let state = c.settle(now, behaviour);
            if filter.all || state == ContainerRunState::Running {
                out.push(ContainerSummary {
                    id: c.id.clone(),
                    name: c.config.name.clone(),
                    image: c.config.image.clone(),
                    labels: c.config.labels.clone(),
                    state,
                });
            }
        }
        Ok(out)
    }

    async fn image_status(&self, image: &str) -> Result<Option<ImageInfo>, RuntimeError> {
        let s = self.enter(FakeMethod::ImageStatus, FakeCall::ImageStatus(image.into()))?;
        Ok(s.images
            .get(&image_key(image))
            .map(|id| ImageInfo { id: id.clone() }))
    }

    async fn pull_image(&self, image: &str) -> Result<ImageInfo, RuntimeError> {
        let mut s = self.enter(FakeMethod::Pull, FakeCall::Pull(image.into()))?;
        let behaviour = s.behaviour(image);
        if let Some(message) = behaviour.pull_error {
            return Err(RuntimeError::ImagePull(message));
        }
        if !behaviour.pullable {
            let repo = image.rsplit_once(':').map_or(image, |(r, _)| r);
            return Err(RuntimeError::ImagePull(format!(
                "pull access denied for {repo}, repository does not exist or may require \
                 'docker login': denied: requested access to the resource is denied"
            )));
        }
        let key = image_key(image);
        let id = image_id(&key);
        s.images.insert(key, id.clone());
        Ok(ImageInfo { id })
    }

    async fn create_container(&self, config: &ContainerConfig) -> Result<String, RuntimeError> {
        let now = self.clock.now();
        let mut s = self.enter(
            FakeMethod::Create,
            FakeCall::Create {
                name: config.name.clone(),
                image: config.image.clone(),
            },
        )?;
        let Some(image_id) = s.images.get(&image_key(&config.image)).cloned() else {
            return Err(RuntimeError::NotFound(format!(
                "No such image: {}",
                config.image
            )));
        };
        if let Some(other) = s.names.get(&config.name) {
            return Err(RuntimeError::Conflict(format!(
                "The container name \"/{}\" is already in use by container \"{other}\"",
                config.name
            )));
        }
        s.next_id += 1;
        let id = format!("{:016x}{:048x}", s.next_id, fnv(&config.name));
        let ip = match config.network {
            NetworkMode::Bridge => Some(next_pod_ip()),
            _ => None,
        };
        s.names.insert(config.name.clone(), id.clone());
        s.containers.insert(
            id.clone(),
            Container {
                id: id.clone(),
                config: Arc::new(config.clone()),
                image_id,
                created_at: now,
                ip,
                run: None,
                logs: Vec::new(),
                exec_result: None,
                exec_hangs: false,
                start_error: String::new(),
            },
        );
        Ok(id)
    }

    async fn start_container(&self, id: &str) -> Result<(), RuntimeError> {
        let delay = {
            let now = self.clock.now();
            let mut s = self.enter(FakeMethod::Start, FakeCall::Start(id.into()))?;
            let image = s.container(id)?.config.image.clone();
            let behaviour = s.behaviour(&image);
            // As Docker: a running container is left alone before anything is checked.
            if s.container(id)?.settle(now, &behaviour) == ContainerRunState::Running {
                return Ok(());
            }
            let join = match &s.container(id)?.config.network {
                NetworkMode::Container(other) => Some(other.clone()),
                _ => None,
            };
            if let Some(other) = join {
                let running = info(&mut s, &other, now)
                    .map(|i| i.state == ContainerRunState::Running)
                    .unwrap_or(false);
                if !running {
                    // Docker answers 409 and records the message in the container's
                    // `State.Error`; the container stays created.
                    let message =
                        format!("cannot join network of a non running container: {other}");
                    s.container(id)?.start_error = message.clone();
                    return Err(RuntimeError::Conflict(message));
                }
            }
            behaviour.start_delay
        };
        if !delay.is_zero() {
            self.clock.sleep(delay).await;
        }
        let now = self.clock.now();
        let mut s = self.lock();
        let image = s.container(id)?.config.image.clone();
        let run_for = s.behaviour(&image).run_for;
        let c = s.container(id)?;
        c.start_error.clear();
        c.run = Some(Run {
            started_at: now,
            ends_at: run_for.map(|d| now.saturating_add(d)),
            finished: None,
        });
        Ok(())
    }

    async fn stop_container(&self, id: &str, grace: Duration) -> Result<(), RuntimeError> {
        let (behaviour, natural_end) = {
            let now = self.clock.now();
            let mut s = self.enter(
                FakeMethod::Stop,
                FakeCall::Stop {
                    id: id.into(),
                    grace,
                },
            )?;
            let image = s.container(id)?.config.image.clone();
            let behaviour = s.behaviour(&image);
            let c = s.container(id)?;
            if c.settle(now, &behaviour) != ContainerRunState::Running {
                return Ok(());
            }
            let natural_end = c
                .run
                .as_ref()
                .and_then(|r| r.ends_at)
                .map(|end| end.saturating_duration_since(now));
            (behaviour, natural_end)
        };
        // SIGTERM first, as Docker does even with no grace; SIGKILL once the grace is over,
        // unless the process ends by itself first (then it keeps its own exit code).
        let code = if behaviour.ignores_sigterm {
            self.clock
                .sleep(natural_end.map_or(grace, |n| n.min(grace)))
                .await;
            137
        } else {
            behaviour.sigterm_exit_code
        };
        let now = self.clock.now();
        let mut s = self.lock();
        let c = s.container(id)?;
        if c.settle(now, &behaviour) == ContainerRunState::Running {
            if let Some(run) = &mut c.run {
                run.finished = Some((now, code));
            }
        }
        Ok(())
    }

    async fn remove_container(&self, id: &str) -> Result<(), RuntimeError> {
        let now = self.clock.now();
        let mut s = self.enter(FakeMethod::Remove, FakeCall::Remove(id.into()))?;
        let image = s.container(id)?.config.image.clone();
        let behaviour = s.behaviour(&image);
        let c = s.container(id)?;
        if c.settle(now, &behaviour) == ContainerRunState::Running {
            return Err(RuntimeError::Conflict(format!(
                "You cannot remove a running container {}. Stop the container before \
                 attempting removal",
                c.id
            )));
        }
        let (cid, name) = (c.id.clone(), c.config.name.clone());
        s.containers.remove(&cid);
        s.names.remove(&name);
        Ok(())
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo, RuntimeError> {
        let now = self.clock.now();
        let mut s = self.enter(FakeMethod::Inspect, FakeCall::Inspect(id.into()))?;
        info(&mut s, id, now)
    }

    async fn logs(&self, id: &str, options: LogOptions) -> Result<LogStream, RuntimeError> {
        let (initial, cid) = {
            let mut s = self.enter(FakeMethod::Logs, FakeCall::Logs(id.into()))?;
            let c = s.container(id)?;
            (tail(&c.logs, options.tail), c.id.clone())
        };
        let offset = self
            .lock()
            .container(&cid)
            .map(|c| c.logs.len())
            .unwrap_or(0);
        if !options.follow {
            return Ok(Box::pin(futures_util::stream::iter([Ok(initial)])));
        }
        let me = self.clone();
        let stream = futures_util::stream::unfold(
            (Some(initial), offset, me, cid),
            |(first, offset, me, cid)| async move {
                if let Some(first) = first.filter(|f| !f.is_empty()) {
                    return Some((Ok(first), (None, offset, me, cid)));
                }
                loop {
                    let now = me.clock.now();
                    let (chunk, running) = {
                        let mut s = me.lock();
                        let image = match s.container(&cid) {
                            Ok(c) => c.config.image.clone(),
                            Err(_) => return None,
                        };
                        let behaviour = s.behaviour(&image);
                        let c = s.container(&cid).ok()?;
                        let running = c.settle(now, &behaviour) == ContainerRunState::Running;
                        (c.logs.get(offset..).map(<[u8]>::to_vec), running)
                    };
                    if let Some(chunk) = chunk.filter(|c| !c.is_empty()) {
                        let next = offset + chunk.len();
                        return Some((Ok(chunk), (None, next, me, cid)));
                    }
                    if !running {
                        return None;
                    }
                    me.clock.sleep(Duration::from_millis(100)).await;
                }
            },
        );
        Ok(Box::pin(stream))
    }

    async fn exec(
        &self,
        id: &str,
        argv: &[String],
        timeout: Duration,
    ) -> Result<ExecResult, RuntimeError> {
        let (hangs, result) = {
            let now = self.clock.now();
            let mut s = self.enter(
                FakeMethod::Exec,
                FakeCall::Exec {
                    id: id.into(),
                    argv: argv.to_vec(),
                },
            )?;
            let image = s.container(id)?.config.image.clone();
            let behaviour = s.behaviour(&image);
            let c = s.container(id)?;
            if c.settle(now, &behaviour) != ContainerRunState::Running {
                return Err(RuntimeError::Conflict(format!(
                    "Container {} is not running",
                    c.id
                )));
            }
            (
                c.exec_hangs,
                c.exec_result.clone().unwrap_or((0, Vec::new())),
            )
        };
        if hangs {
            self.clock.sleep(timeout).await;
            return Err(RuntimeError::Timeout(format!(
                "exec {argv:?} did not finish within {timeout:?}"
            )));
        }
        Ok(ExecResult {
            exit_code: result.0,
            output: result.1,
        })
    }
}
