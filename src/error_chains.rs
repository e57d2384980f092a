//! Every error that shows its cause in its own message leaves it out of its `source()`, so a
//! chain printed with `{:#}` (as `main` prints an exit-1 error) says each cause once.

use crate::book::{AccountId, BookError};
use crate::engine::{EngineError, StateError};
use crate::events::LogError;
use crate::ledger::LedgerError;
use crate::margin::MarginError;
use crate::mc::McError;
use crate::population::MapError;
use crate::report::ReportError;
use crate::runner::RunError;
use crate::scenario::ScenarioError;
use crate::sim::SimError;
use crate::units::UnitError;
use std::path::PathBuf;

fn disk_full() -> std::io::Error {
    std::io::Error::other("disk full")
}

#[test]
fn a_chain_says_each_cause_once() {
    let overdraft = || LedgerError::Overdraft(AccountId(7));
    let engine = || EngineError::from(overdraft());
    // The halt a busy run reported as "ledger: X: X".
    assert_eq!(
        format!("{:#}", anyhow::Error::new(RunError::Sim(SimError::from(engine())))),
        "ledger: account AccountId(7) would go below zero outside the bankruptcy path"
    );
    let map = || MapError::Margin { path: "counterparty_leverage".into(), cause: MarginError::Overflow("x") };
    let cases: Vec<(anyhow::Error, String)> = vec![
        (engine().into(), overdraft().to_string()),
        (EngineError::from(BookError::SizeOverflow).into(), BookError::SizeOverflow.to_string()),
        (EngineError::from(MarginError::Overflow("m")).into(), MarginError::Overflow("m").to_string()),
        (StateError::from(BookError::SizeOverflow).into(), BookError::SizeOverflow.to_string()),
        (StateError::from(MarginError::Overflow("f")).into(), MarginError::Overflow("f").to_string()),
        (SimError::from(map()).into(), MarginError::Overflow("x").to_string()),
        (McError::Sim { run: 3, seed: 9, cause: SimError::from(engine()) }.into(), overdraft().to_string()),
        (
            MapError::Unit { path: "price_usd".into(), cause: UnitError::Overflow("u") }.into(),
            UnitError::Overflow("u").to_string(),
        ),
        (LogError::from(disk_full()).into(), "disk full".into()),
        (RunError::from(LogError::from(disk_full())).into(), "disk full".into()),
        (McError::from(LogError::from(disk_full())).into(), "disk full".into()),
        (McError::Io { path: PathBuf::from("mc.json"), cause: disk_full() }.into(), "disk full".into()),
        (ReportError::Io { path: PathBuf::from("a.csv"), cause: disk_full() }.into(), "disk full".into()),
        (ScenarioError::Read { path: PathBuf::from("s.ron"), cause: disk_full() }.into(), "disk full".into()),
    ];
    for (e, cause) in cases {
        let chain = format!("{e:#}");
        assert_eq!(chain.matches(cause.as_str()).count(), 1, "{chain}");
    }
}
