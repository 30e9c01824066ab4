//! The trial registry: what a sponsor may register, what governance decides, and that every
//! refusal changes nothing.

use cosmwasm_std::{coin, from_json, Addr, HexBinary, Timestamp};
use cw_multi_test::{App, ContractWrapper, Executor};
use healthmesh_trials::ContractError;
use healthmesh_types::pause::PauseMsg;
use healthmesh_types::trials::{
    Criterion, ExecuteMsg, InstantiateMsg, Milestone, Operator, Predicate, QueryMsg, Trial,
    TrialStatus, TrialTerms, TrialsResponse,
};

struct Suite {
    app: App,
    trials: Addr,
    dao: Addr,
    sponsor: Addr,
    site: Addr,
}

fn criterion(attribute: &str, op: Operator, values: Vec<u64>) -> Criterion {
    Criterion {
        attribute: attribute.into(),
        predicate: Predicate { op, values },
    }
}

impl Suite {
    fn new() -> Self {
        let mut app = App::default();
        let code = app.store_code(Box::new(ContractWrapper::new(
            healthmesh_trials::contract::execute,
            healthmesh_trials::contract::instantiate,
            healthmesh_trials::contract::query,
        )));
        let (dao, sponsor, site) = (
            app.api().addr_make("dao"),
            app.api().addr_make("sponsor"),
            app.api().addr_make("site"),
        );
        let msg = InstantiateMsg {
            billing_connections: vec![],
            packet_timeout_seconds: None,
            admin: dao.to_string(),
            attestation: app.api().addr_make("attestation").to_string(),
            pausers: vec![app.api().addr_make("council").to_string()],
            sites: vec![],
            max_pause_seconds: None,
        };
        let trials = app
            .instantiate_contract(code, dao.clone(), &msg, &[], "trials", None)
            .unwrap();
        let mut suite = Suite {
            app,
            trials,
            dao,
            sponsor,
            site,
        };
        let approve = ExecuteMsg::ApproveSite {
            site: suite.site.to_string(),
        };
        suite.exec(&suite.dao.clone(), &approve).unwrap();
        suite
    }

    fn exec(
        &mut self,
        sender: &Addr,
        msg: &ExecuteMsg,
    ) -> Result<cw_multi_test::AppResponse, ContractError> {
        self.app
            .execute_contract(sender.clone(), self.trials.clone(), msg, &[])
            .map_err(|e| e.downcast().unwrap())
    }

    fn terms(&self) -> TrialTerms {
        let now = self.app.block_info().time;
        TrialTerms {
            protocol_hash: HexBinary::from([7u8; 32]),
            criteria: vec![
                criterion("hba1c", Operator::Lt, vec![70]),
                criterion("age", Operator::Gte, vec![18]),
                criterion("genotype:apoe", Operator::In, vec![2, 3]),
            ],
            enrollment_opens: now,
            enrollment_closes: now.plus_days(30),
            ends_at: now.plus_days(365),
            capacity: 100,
            sites: vec![self.site.to_string()],
            milestones: vec![Milestone {
                name: "visit-3".into(),
                evidence: criterion("visits_completed", Operator::Gte, vec![3]),
                participant_payout: coin(500, "ustake"),
                site_payout: coin(200, "ustake"),
            }],
        }
    }

    fn register(&mut self, terms: TrialTerms) -> Result<u64, ContractError> {
        let sponsor = self.sponsor.clone();
        let response = self.exec(&sponsor, &ExecuteMsg::RegisterTrial(terms))?;
        Ok(from_json(response.data.unwrap()).unwrap())
    }

    fn trial(&self, id: u64) -> Trial {
        self.app
            .wrap()
            .query_wasm_smart(&self.trials, &QueryMsg::Trial { trial_id: id })
            .unwrap()
    }
}

#[test]
fn a_sponsor_registers_a_trial_with_criteria_sites_and_milestones() {
    let mut s = Suite::new();
    let id = s.register(s.terms()).unwrap();
    let trial = s.trial(id);
    assert_eq!(trial.sponsor, s.sponsor);
    assert_eq!(trial.purpose(), format!("trial:{id}"));
    assert_eq!(trial.criteria.len(), 3);
    assert_eq!(trial.sites, vec![s.site.clone()]);
    assert_eq!(trial.status, TrialStatus::Active);
    let second = s.register(s.terms()).unwrap();
    let page: TrialsResponse = s
        .app
        .wrap()
        .query_wasm_smart(
            &s.trials,
            &QueryMsg::Trials {
                sponsor: Some(s.sponsor.to_string()),
                start_before: None,
                limit: None,
            },
        )
        .unwrap();
    let ids: Vec<u64> = page.trials.iter().map(|t| t.id).collect();
    assert_eq!(ids, vec![second, id]);
}

#[test]
fn malformed_trials_are_refused_and_change_nothing() {
    let mut s = Suite::new();
    let before = s.app.dump_wasm_raw(&s.trials);
    let stranger = s.app.api().addr_make("stranger").to_string();
    let now = s.app.block_info().time;
    type Edit = Box<dyn Fn(&mut TrialTerms)>;
    let cases: Vec<(Edit, &str)> = vec![
        (
            Box::new(|t| t.criteria.clear()),
            "1 to 16 eligibility criteria",
        ),
        (
            Box::new(|t| {
                t.criteria
                    .push(criterion("bmi", Operator::Between, vec![30, 20]))
            }),
            "criterion bmi",
        ),
        (
            Box::new(|t| t.criteria.push(t.criteria[0].clone())),
            "listed twice",
        ),
        (
            Box::new(|t| t.criteria[0].attribute = "HbA1c".into()),
            "must start with a lowercase letter",
        ),
        (
            Box::new(move |t| t.enrollment_closes = t.enrollment_opens),
            "enrollment must open before it closes",
        ),
        (
            Box::new(move |t| {
                t.enrollment_opens = Timestamp::from_seconds(now.seconds() - 100);
                t.enrollment_closes = Timestamp::from_seconds(now.seconds() - 50);
                t.ends_at = Timestamp::from_seconds(now.seconds() - 10);
            }),
            "must end in the future",
        ),
        (Box::new(|t| t.capacity = 0), "capacity"),
        (
            Box::new(move |t| t.sites = vec![stranger.clone()]),
            "not approved",
        ),
        (Box::new(|t| t.sites.clear()), "1 to 32 sites"),
        (
            Box::new(|t| t.milestones.push(t.milestones[0].clone())),
            "named twice",
        ),
        (
            Box::new(|t| t.milestones[0].site_payout.amount = 0u128.into()),
            "site payout must be more than 0",
        ),
        (
            Box::new(|t| t.protocol_hash = HexBinary::from(vec![1u8; 3])),
            "protocol_hash",
        ),
    ];
    for (edit, expected) in cases {
        let mut terms = s.terms();
        edit(&mut terms);
        let err = s.register(terms).unwrap_err().to_string();
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
    assert_eq!(s.app.dump_wasm_raw(&s.trials), before);
}

#[test]
fn governance_approves_sites_and_suspends_trials_the_council_pauses() {
    let mut s = Suite::new();
    let id = s.register(s.terms()).unwrap();
    let sponsor = s.sponsor.clone();
    let suspend = ExecuteMsg::SuspendTrial {
        trial_id: id,
        reason: "safety review".into(),
    };
    assert!(matches!(
        s.exec(&sponsor, &suspend).unwrap_err(),
        ContractError::Ownership(_)
    ));
    let dao = s.dao.clone();
    s.exec(&dao, &suspend).unwrap();
    assert!(matches!(s.trial(id).status, TrialStatus::Suspended { .. }));
    assert_eq!(
        s.exec(&dao, &suspend).unwrap_err(),
        ContractError::AlreadySuspended(id)
    );
    s.exec(&dao, &ExecuteMsg::ResumeTrial { trial_id: id })
        .unwrap();
    assert_eq!(s.trial(id).status, TrialStatus::Active);

    // A revoked site cannot be named by new trials; the trials that name it keep it.
    let revoke = ExecuteMsg::RevokeSite {
        site: s.site.to_string(),
    };
    assert!(matches!(
        s.exec(&sponsor, &revoke).unwrap_err(),
        ContractError::Ownership(_)
    ));
    s.exec(&dao, &revoke).unwrap();
    assert!(matches!(
        s.register(s.terms()).unwrap_err(),
        ContractError::SiteNotApproved(_)
    ));

    // The council pauses: no registration until unpaused.
    s.exec(
        &dao,
        &ExecuteMsg::ApproveSite {
            site: s.site.to_string(),
        },
    )
    .unwrap();
    let council = s.app.api().addr_make("council");
    let pause = ExecuteMsg::Pausable(PauseMsg::Pause {
        reason: "incident".into(),
    });
    s.exec(&council, &pause).unwrap();
    assert!(matches!(
        s.register(s.terms()).unwrap_err(),
        ContractError::Pause(_)
    ));
    s.exec(&council, &ExecuteMsg::Pausable(PauseMsg::Unpause {}))
        .unwrap();
    assert!(s.register(s.terms()).is_ok());
}
