//! `terraform-provider-tidbcloud`: started by Terraform, or by a person with
//! `--debug` to attach Terraform to a long-running process.

use std::process::ExitCode;

use tidbcloud_provider::framework::server::ProviderServer;
use tidbcloud_provider::plugin::{self, Mode, Plugin};
use tidbcloud_provider::proto::tfplugin6::provider_server::ProviderServer as ProviderService;
use tidbcloud_provider::provider::TidbCloudProvider;

/// The source address Terraform uses for this provider in debug mode unless
/// `--address=` says otherwise.
const DEFAULT_ADDRESS: &str = "terraform.local/tidbcloud/tidbcloud";

fn usage() -> &'static str {
    "terraform-provider-tidbcloud: the Terraform provider for TiDB Cloud Private Link Connections.\n\n\
     Terraform starts this program itself. To debug, run it with --debug [--address=SOURCE]\n\
     and export the TF_REATTACH_PROVIDERS value it prints in the shell that runs terraform.\n\n\
     Options:\n  --debug            serve without Terraform's launch handshake and print TF_REATTACH_PROVIDERS\n  \
     --address=SOURCE   provider source address in debug mode (default terraform.local/tidbcloud/tidbcloud)\n  \
     -V, --version      print the version, commit, plugin protocol and platform\n  -h, --help         this text\n"
}

/// What `--version` prints: the release version, the commit it was built
/// from, the plugin protocol Terraform speaks to it and its platform in
/// Terraform's naming (the `<os_arch>` of mirror paths).
fn version_text() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!(
        "terraform-provider-tidbcloud {}\ncommit: {}\nplugin protocol: {}\nplatform: {}_{arch}\n",
        env!("CARGO_PKG_VERSION"),
        env!("TIDBCLOUD_PROVIDER_COMMIT"),
        PROTOCOL_VERSION,
        std::env::consts::OS,
    )
}

/// The Terraform plugin protocol major version this provider serves.
const PROTOCOL_VERSION: u32 = 6;

fn main() -> ExitCode {
    let mut mode = Mode::Managed;
    let mut address = DEFAULT_ADDRESS.to_string();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => {
                mode = Mode::Debug {
                    source_address: String::new(),
                }
            }
            "--version" | "-version" | "-V" => {
                print!("{}", version_text());
                return ExitCode::SUCCESS;
            }
            "--help" | "-help" | "-h" => {
                print!("{}", usage());
                return ExitCode::SUCCESS;
            }
            other => match other.strip_prefix("--address=") {
                Some(a) if !a.is_empty() => address = a.to_string(),
                _ => {
                    eprintln!("unknown argument {other:?}\n\n{}", usage());
                    return ExitCode::from(2);
                }
            },
        }
    }
    if let Mode::Debug { source_address } = &mut mode {
        *source_address = address;
    }
    plugin::log::init("provider.terraform-provider-tidbcloud");
    let provider = ProviderService::new(ProviderServer::new(TidbCloudProvider))
        .max_decoding_message_size(256 * 1024 * 1024)
        .max_encoding_message_size(256 * 1024 * 1024);
    let result = plugin::run(plugin::serve(
        Plugin {
            app_protocol_version: PROTOCOL_VERSION,
            name: "terraform-provider-tidbcloud",
            routes: tonic::service::Routes::new(provider),
        },
        mode,
    ));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
