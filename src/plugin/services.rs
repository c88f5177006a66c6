//! go-plugin's host services: the controller (graceful shutdown), the stdio
//! stream and the broker. Terraform uses neither stdio nor the broker with
//! providers, but go-plugin clients expect them to exist; their streams stay
//! open, quiet, until the server shuts down.

use std::pin::Pin;

use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::proto::plugin::grpc_broker_server::GrpcBroker;
use crate::proto::plugin::grpc_controller_server::GrpcController;
use crate::proto::plugin::grpc_stdio_server::GrpcStdio;
use crate::proto::plugin::{ConnInfo, Empty, StdioData};

type QuietStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A stream that yields nothing and ends when `shutdown` turns true.
fn quiet_until_shutdown<T: Send + 'static>(mut shutdown: watch::Receiver<bool>) -> QuietStream<T> {
    Box::pin(
        futures_util::stream::once(async move {
            let _ = shutdown.wait_for(|down| *down).await;
            None
        })
        .filter_map(|item: Option<Result<T, Status>>| async move { item }),
    )
}

use futures_util::StreamExt as _;

/// `plugin.GRPCController`: `Shutdown` asks the server to stop.
pub struct Controller {
    pub shutdown: watch::Sender<bool>,
}

#[tonic::async_trait]
impl GrpcController for Controller {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        log::debug!("shutdown requested by the host");
        let _ = self.shutdown.send(true);
        Ok(Response::new(Empty {}))
    }
}

/// `plugin.GRPCStdio`: this provider writes nothing to stdout or stderr that
/// should be forwarded (logs go to stderr directly), so the stream is quiet.
pub struct Stdio {
    pub shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl GrpcStdio for Stdio {
    type StreamStdioStream = QuietStream<StdioData>;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(quiet_until_shutdown(self.shutdown.clone())))
    }
}

/// `plugin.GRPCBroker`: no sub-plugins are offered; the stream stays open.
pub struct Broker {
    pub shutdown: watch::Receiver<bool>,
}

#[tonic::async_trait]
impl GrpcBroker for Broker {
    type StartStreamStream = QuietStream<ConnInfo>;

    async fn start_stream(
        &self,
        _request: Request<Streaming<ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(quiet_until_shutdown(self.shutdown.clone())))
    }
}
