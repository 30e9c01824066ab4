//! Governance, staking and consent wired as on a HealthMesh chain: the DAO instantiates its
//! staking contract and administers the consent contract; a 12-member council (8 of 12).

use cosmwasm_std::{
    coins, to_json_binary, Addr, Coin, CosmosMsg, Decimal, Empty, Uint128, WasmMsg,
};
use cw_multi_test::{App, AppResponse, ContractWrapper, Executor};
use healthmesh_types::governance::{
    self as gov, CouncilAction, CouncilConfig, DepositConfig, RefundPolicy, Threshold, VotingSource,
};
use healthmesh_types::staking::{self, SlashDestination};
use serde::Serialize;

use crate::consent::consent_code;

pub const DENOM: &str = "ustake";
pub const DAY: u64 = 86_400;
pub const DEPOSIT: u128 = 1_000;
pub const UNBONDING: u64 = 14 * DAY;
pub const SLASHING_WINDOW: u64 = 7 * DAY;
pub const MAX_CLAIMS: u32 = 3;
pub const VOTING_PERIOD: u64 = 3 * DAY;
pub const TIMELOCK: u64 = DAY;

pub fn staking_code() -> Box<dyn cw_multi_test::Contract<Empty>> {
    use healthmesh_staking::contract::{execute, instantiate, migrate, query, reply};
    Box::new(
        ContractWrapper::new(execute, instantiate, query)
            .with_reply(reply)
            .with_migrate(migrate),
    )
}

pub fn governance_code() -> Box<dyn cw_multi_test::Contract<Empty>> {
    use healthmesh_governance::contract::{execute, instantiate, migrate, query, reply};
    Box::new(
        ContractWrapper::new(execute, instantiate, query)
            .with_reply(reply)
            .with_migrate(migrate),
    )
}

pub struct DaoSuite {
    pub app: App,
    pub governance: Addr,
    pub staking: Addr,
    pub consent: Addr,
    /// Custodians: hospital (600), lab (300), clinic (100) bonded.
    pub hospital: Addr,
    pub lab: Addr,
    pub clinic: Addr,
    /// Funded, not bonded.
    pub latecomer: Addr,
    pub council: Vec<Addr>,
}

/// The suite's staking parameters: 14-day unbonding, 7-day slashing window, slashed funds
/// burnt until governance names a treasury.
pub fn staking_instantiate_msg(admin: &Addr) -> staking::InstantiateMsg {
    staking::InstantiateMsg {
        denom: DENOM.into(),
        min_bond: Uint128::new(200),
        unbonding_period: UNBONDING,
        slashing_window: SLASHING_WINDOW,
        max_claims: MAX_CLAIMS,
        slash_destination: SlashDestination::Burn {},
        admin: admin.to_string(),
        pausers: vec![],
        max_pause_seconds: None,
    }
}

/// The suite's DAO: 50 % threshold at 40 % quorum, 3-day vote, 1-day timelock, a deposit
/// refunded unless vetoed, `council` at 8 approvals.
pub fn governance_instantiate_msg(voting: VotingSource, council: &[Addr]) -> gov::InstantiateMsg {
    gov::InstantiateMsg {
        voting,
        threshold: Threshold::ThresholdQuorum {
            threshold: Decimal::percent(50),
            quorum: Decimal::percent(40),
        },
        voting_period: VOTING_PERIOD,
        timelock: TIMELOCK,
        allow_revote: false,
        veto_threshold: None,
        deposit: Some(DepositConfig {
            amount: Coin::new(DEPOSIT, DENOM),
            refund: RefundPolicy::Always,
        }),
        council: CouncilConfig {
            members: council.iter().map(|a| a.to_string()).collect(),
            threshold: 8,
        },
        voting_rule: gov::VotingRule::Stake,
        initial_members: vec![],
        network: None,
    }
}

impl DaoSuite {
    pub fn new() -> Self {
        let mut app = App::default();
        let addr = |app: &App, n: &str| app.api().addr_make(n);
        let (hospital, lab, clinic, latecomer) = (
            addr(&app, "hospital"),
            addr(&app, "lab"),
            addr(&app, "clinic"),
            addr(&app, "latecomer"),
        );
        let council: Vec<Addr> = (0..12)
            .map(|i| addr(&app, &format!("council-{i}")))
            .collect();
        app.init_modules(|router, _, storage| {
            for who in [&hospital, &lab, &clinic, &latecomer] {
                router
                    .bank
                    .init_balance(storage, who, coins(10_000, DENOM))
                    .unwrap();
            }
        });
        let staking_id = app.store_code(staking_code());
        let governance_id = app.store_code(governance_code());
        let consent_id = app.store_code(consent_code());
        let deployer = addr(&app, "deployer");
        // The DAO's own address is not known yet: it overrides the admin with itself.
        let staking_msg = staking_instantiate_msg(&deployer);
        let governance = app
            .instantiate_contract(
                governance_id,
                deployer.clone(),
                &governance_instantiate_msg(
                    VotingSource::InstantiateStaking {
                        code_id: staking_id,
                        msg: staking_msg,
                        label: "staking".into(),
                    },
                    &council,
                ),
                &[],
                "governance",
                None,
            )
            .expect("instantiate governance");
        let config: gov::ConfigResponse = app
            .wrap()
            .query_wasm_smart(&governance, &gov::QueryMsg::Config {})
            .unwrap();
        let staking = match config.voting {
            gov::StoredVotingSource::Staking { contract } => contract,
            other => panic!("unexpected voting source {other:?}"),
        };
        let consent = app
            .instantiate_contract(
                consent_id,
                deployer,
                &healthmesh_types::consent::InstantiateMsg {
                    name: "consent".into(),
                    symbol: "HMC".into(),
                    admin: governance.to_string(),
                    pausers: vec![],
                    max_pause_seconds: None,
                    settlement_connections: vec![],
                },
                &[],
                "consent",
                Some(governance.to_string()),
            )
            .unwrap();
        let mut suite = DaoSuite {
            app,
            governance,
            staking,
            consent,
            hospital,
            lab,
            clinic,
            latecomer,
            council,
        };
        for (who, amount) in [
            (suite.hospital.clone(), 600),
            (suite.lab.clone(), 300),
            (suite.clinic.clone(), 100),
        ] {
            suite.bond(&who, amount).unwrap();
        }
        suite.next_block(5);
        suite
    }

    pub fn next_block(&mut self, seconds: u64) {
        self.app.update_block(|b| {
            b.height += 1;
            b.time = b.time.plus_seconds(seconds);
        });
    }

    pub fn exec(
        &mut self,
        sender: &Addr,
        contract: &Addr,
        msg: &(impl Serialize + std::fmt::Debug),
        funds: &[Coin],
    ) -> anyhow::Result<AppResponse> {
        self.app
            .execute_contract(sender.clone(), contract.clone(), msg, funds)
    }

    pub fn bond(&mut self, who: &Addr, amount: u128) -> anyhow::Result<AppResponse> {
        let staking = self.staking.clone();
        self.exec(
            who,
            &staking,
            &staking::ExecuteMsg::Bond {},
            &coins(amount, DENOM),
        )
    }

    pub fn staking_msg(&self, msg: &staking::ExecuteMsg) -> CosmosMsg {
        WasmMsg::Execute {
            contract_addr: self.staking.to_string(),
            msg: to_json_binary(msg).unwrap(),
            funds: vec![],
        }
        .into()
    }

    /// A message from the DAO to itself, e.g. `UpdateConfig` or `UpdateCouncil`.
    pub fn governance_msg(&self, msg: &gov::ExecuteMsg) -> CosmosMsg {
        WasmMsg::Execute {
            contract_addr: self.governance.to_string(),
            msg: to_json_binary(msg).unwrap(),
            funds: vec![],
        }
        .into()
    }

    /// The lab proposes `msgs` and all three custodians vote yes: passed at once, in its
    /// timelock.
    pub fn pass(&mut self, msgs: Vec<CosmosMsg>) -> anyhow::Result<u64> {
        let lab = self.lab.clone();
        let id = self.propose(&lab, msgs)?;
        for voter in [self.hospital.clone(), lab, self.clinic.clone()] {
            self.vote(&voter, id, gov::Vote::Yes)?;
        }
        Ok(id)
    }

    /// [`Self::pass`], wait out the timelock and execute.
    pub fn pass_and_execute(&mut self, msgs: Vec<CosmosMsg>) -> anyhow::Result<u64> {
        let id = self.pass(msgs)?;
        self.next_block(TIMELOCK);
        self.execute_proposal(id)?;
        Ok(id)
    }

    pub fn propose(&mut self, proposer: &Addr, msgs: Vec<CosmosMsg>) -> anyhow::Result<u64> {
        let governance = self.governance.clone();
        let msg = gov::ExecuteMsg::Propose {
            title: "t".into(),
            description: "d".into(),
            msgs,
        };
        let res = self.exec(proposer, &governance, &msg, &coins(DEPOSIT, DENOM))?;
        let id = crate::consent::event_attr(&res, "wasm-proposal_created", "proposal_id").unwrap();
        Ok(id.parse().unwrap())
    }

    pub fn vote(&mut self, voter: &Addr, id: u64, vote: gov::Vote) -> anyhow::Result<AppResponse> {
        let governance = self.governance.clone();
        self.exec(
            voter,
            &governance,
            &gov::ExecuteMsg::Vote {
                proposal_id: id,
                vote,
            },
            &[],
        )
    }

    pub fn execute_proposal(&mut self, id: u64) -> anyhow::Result<AppResponse> {
        let governance = self.governance.clone();
        let anyone = self.latecomer.clone();
        self.exec(
            &anyone,
            &governance,
            &gov::ExecuteMsg::Execute { proposal_id: id },
            &[],
        )
    }

    pub fn proposal(&self, id: u64) -> gov::Proposal {
        let res: gov::ProposalResponse = self
            .app
            .wrap()
            .query_wasm_smart(
                &self.governance,
                &gov::QueryMsg::Proposal { proposal_id: id },
            )
            .unwrap();
        res.proposal
    }

    pub fn stake(&self, who: &Addr) -> staking::StakeResponse {
        self.app
            .wrap()
            .query_wasm_smart(
                &self.staking,
                &staking::QueryMsg::Stake {
                    address: who.to_string(),
                },
            )
            .unwrap()
    }

    pub fn balance(&self, who: &Addr) -> u128 {
        self.app
            .wrap()
            .query_balance(who, DENOM)
            .unwrap()
            .amount
            .u128()
    }

    /// `n` council members approve `action` (the first proposes it); returns the last response.
    pub fn council_act(&mut self, action: CouncilAction, n: usize) -> anyhow::Result<AppResponse> {
        let governance = self.governance.clone();
        let members = self.council.clone();
        let res = self.exec(
            &members[0],
            &governance,
            &gov::ExecuteMsg::CouncilPropose { action },
            &[],
        )?;
        let id: u64 = crate::consent::event_attr(&res, "wasm-council_action_proposed", "action_id")
            .unwrap()
            .parse()
            .unwrap();
        let mut last = res;
        for member in &members[1..n] {
            last = self.exec(
                member,
                &governance,
                &gov::ExecuteMsg::CouncilApprove { action_id: id },
                &[],
            )?;
        }
        Ok(last)
    }
}

impl Default for DaoSuite {
    fn default() -> Self {
        Self::new()
    }
}
