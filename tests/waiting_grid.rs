mod support;

use std::time::Duration;
use support::api_model::{ApiModel, ModelConfig};
use support::tf_walk;

#[test]
fn smoke() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
    rt.block_on(async {
        let model = ApiModel::new(ModelConfig::uniform(100, Duration::from_secs(60), Duration::from_secs(10)));
        let (out, state) = tf_walk::apply(&model, "k", 0, 3, true, 10).await;
        eprintln!("apply {:?} {:?} {}", out.elapsed, out.errors, model.counts(0).summary());
        model.reset_counts();
        let out = tf_walk::destroy(&model, "k", 0, &state, 10).await;
        eprintln!("destroy {:?} {:?} {}", out.elapsed, out.errors, model.counts(0).summary());
    });
}
