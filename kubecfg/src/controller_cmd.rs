//! The controller verbs from the command line: operands and flags to calls of
//! `controller_verbs` over HTTP, and their results to output.

use crate::controller_verbs::{self, Rolling, RunRequest, TemplateChange, Waits};
use crate::progress::Progress;
use crate::{is_v1beta1, printer, read_document, Args, CliError, Verb};
use kube_core::v1beta1::V1Beta1;
use kube_core::{ReplicationController, ResourceKind};
use kube_runtime::client::HttpClient;
use std::time::Duration;

/// The seed's default pause between two replaced pods of a rolling update.
const DEFAULT_UPDATE_PERIOD: Duration = Duration::from_secs(60);

/// A number of replicas given on the command line.
fn parse_replicas(verb: Verb, s: &str) -> Result<i32, CliError> {
    s.parse::<i32>().ok().filter(|n| *n >= 0).ok_or_else(|| {
        CliError::Usage(format!(
            "replicas must be a non-negative integer, not {s:?}\nUsage: {}",
            verb.usage()
        ))
    })
}

/// The pod template of the controller in `-c FILE` (v1 or the seed's v1beta1).
fn template_from_file(path: &str) -> Result<kube_core::pod::PodTemplateSpec, CliError> {
    let doc = read_document(path)?;
    let rc: ReplicationController = if is_v1beta1(&doc) {
        ReplicationController::from_v1beta1(doc)
            .map_err(|e| CliError::Usage(format!("{path} is not a replication controller: {e}")))?
    } else {
        serde_json::from_value(doc)
            .map_err(|e| CliError::Usage(format!("{path} is not a replication controller: {e}")))?
    };
    rc.spec
        .template
        .ok_or_else(|| CliError::Usage(format!("{path}: the controller has no pod template")))
}

/// Runs resize, stop, rm, run or rollingupdate and returns what to print.
pub async fn run(args: &Args) -> Result<String, CliError> {
    let client = HttpClient::new(&args.server)?;
    let ns = args.namespace.as_deref().unwrap_or("default");
    let name = args.resource.as_str();
    let waits = Waits {
        timeout: args.timeout.unwrap_or(Waits::default().timeout),
        ..Waits::default()
    };
    let print_rc = |rc: &ReplicationController| -> Result<String, CliError> {
        let v = serde_json::to_value(rc).map_err(|e| CliError::Output(e.to_string()))?;
        printer::print(ResourceKind::ReplicationControllers, &v, args.output)
            .map_err(CliError::Output)
    };
    match args.verb {
        Verb::Resize => {
            let replicas = parse_replicas(args.verb, args.container.as_deref().unwrap_or(""))?;
            print_rc(&controller_verbs::resize(&client, ns, name, replicas).await?)
        }
        Verb::Stop => print_rc(&controller_verbs::stop(&client, ns, name, waits).await?),
        Verb::Rm => {
            controller_verbs::rm(&client, ns, name).await?;
            Ok(printer::status_table("Success"))
        }
        Verb::Run => {
            let req = RunRequest {
                image: args.resource.clone(),
                replicas: parse_replicas(args.verb, args.container.as_deref().unwrap_or(""))?,
                name: args.name.clone().unwrap_or_default(),
                ports: args.ports.clone().unwrap_or_default(),
                service_port: args.service_port,
            };
            let (rc, service) = controller_verbs::run(&client, ns, &req).await?;
            let mut out = print_rc(&rc)?;
            if let Some(svc) = service {
                let v = serde_json::to_value(&svc).map_err(|e| CliError::Output(e.to_string()))?;
                out.push_str(
                    &printer::print(ResourceKind::Services, &v, args.output)
                        .map_err(CliError::Output)?,
                );
            }
            Ok(out)
        }
        Verb::Rollingupdate => {
            let change = match (&args.image, &args.config) {
                (Some(image), _) => TemplateChange::Image(image.clone()),
                (None, Some(path)) => TemplateChange::Template(Box::new(template_from_file(path)?)),
                (None, None) => TemplateChange::Keep,
            };
            let settings = Rolling {
                period: args.update_period.unwrap_or(DEFAULT_UPDATE_PERIOD),
                waits,
                progress: Progress::for_stdout(),
            };
            let mut stdout = std::io::stdout();
            let (replaced, current) =
                controller_verbs::rolling_update(&client, ns, name, &change, settings, &mut stdout)
                    .await?;
            Ok(format!(
                "Updated {name}: {replaced} pod(s) replaced, {current} up to date\n"
            ))
        }
        _ => Err(CliError::Usage(format!(
            "{} is not a controller verb",
            args.verb.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use crate::{check_arguments, go_style_flags, with_usage, Args};
    use clap::Parser;
    use std::time::Duration;

    fn parse(argv: &[&str]) -> Result<Args, String> {
        let argv = std::iter::once("kubecfg")
            .chain(argv.iter().copied())
            .map(String::from);
        let args = Args::try_parse_from(go_style_flags(argv)).map_err(|e| with_usage(&e))?;
        check_arguments(&args).map_err(|e| e.to_string())?;
        Ok(args)
    }

    #[test]
    fn controller_verb_arguments() {
        // (argv after `kubecfg`, Ok or the start of the error)
        let cases: [(&[&str], Result<(), &str>); 18] = [
            (&["resize", "web", "3"], Ok(())),
            (&["stop", "web"], Ok(())),
            (&["--timeout", "30s", "stop", "web"], Ok(())),
            (&["rm", "web"], Ok(())),
            (&["-p", "8080:80", "-s", "8000", "run", "nginx", "2", "web"], Ok(())),
            (&["-image", "nginx:2", "-u", "500ms", "rollingupdate", "web"], Ok(())),
            (&["-image=nginx:2", "rollingupdate", "web"], Ok(())),
            (&["-c", "web.json", "rollingupdate", "web"], Ok(())),
            (&["resize", "web"], Err("resize takes a controller and a number of replicas\nUsage: kubecfg [OPTIONS] resize <controller> <replicas>")),
            (&["stop", "web", "now"], Err("stop takes one controller")),
            (&["run", "nginx", "2"], Err("run takes an image, a number of replicas and a controller name")),
            (&["-p", "80", "resize", "web", "1"], Err("-p is only valid with run")),
            (&["-s", "80", "stop", "web"], Err("-s is only valid with run")),
            (&["-u", "1s", "run", "a", "1", "b"], Err("-u is only valid with rollingupdate")),
            (&["--timeout", "1s", "rm", "web"], Err("--timeout is only valid with stop or rollingupdate")),
            (&["-image", "a", "-c", "f", "rollingupdate", "web"], Err("-image and -c cannot be used together")),
            (&["-u", "10", "rollingupdate", "web"], Err("error: invalid value '10' for '--update-period")),
            (&["-s", "0", "run", "a", "1", "b"], Err("error: invalid value '0'")),
        ];
        for (argv, want) in cases {
            match (parse(argv), want) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err(w)) => assert!(e.starts_with(w), "{argv:?}: {e}"),
                (got, want) => panic!("{argv:?}: got {:?}, want {want:?}", got.map(|_| ())),
            }
        }
        let args = parse(&["-u", "1m30s", "-image", "x", "rollingupdate", "web"]).unwrap();
        assert_eq!(args.update_period, Some(Duration::from_secs(90)));
        assert_eq!(args.image.as_deref(), Some("x"));
        // A clap refusal carries every usage line.
        let err = parse(&["-u", "10", "rollingupdate", "web"]).unwrap_err();
        assert!(err.contains("Usage: kubecfg [OPTIONS] get|list"), "{err}");
        assert!(
            err.contains("kubecfg [OPTIONS] resize <controller> <replicas>"),
            "{err}"
        );
    }

    #[test]
    fn go_style_flags_are_rewritten() {
        let cases: [(&[&str], &[&str]); 4] = [
            (&["kubecfg", "-image", "x"], &["kubecfg", "--image", "x"]),
            (
                &["kubecfg", "-image=x", "-timeout=1s"],
                &["kubecfg", "--image=x", "--timeout=1s"],
            ),
            (
                &["kubecfg", "-images", "-i", "-c", "-"],
                &["kubecfg", "-images", "-i", "-c", "-"],
            ),
            (&["kubecfg", "--image", "x"], &["kubecfg", "--image", "x"]),
        ];
        for (input, want) in cases {
            let got = go_style_flags(input.iter().map(|s| s.to_string()));
            assert_eq!(got, want, "{input:?}");
        }
    }
}
