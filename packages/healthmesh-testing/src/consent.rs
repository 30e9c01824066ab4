//! A consent contract on a multi-test chain, with the roles of a typical grant.

use cosmwasm_std::{Addr, Empty, HexBinary, StdResult};
use cw_multi_test::{App, AppResponse, ContractWrapper, Executor};
use cw_utils::Expiration;
use healthmesh_consent::contract::{execute, instantiate, migrate, query};
use healthmesh_types::consent::{ExecuteMsg, InstantiateMsg, QueryMsg};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// One day in seconds.
pub const DAY: u64 = 86_400;

pub fn consent_code() -> Box<dyn cw_multi_test::Contract<Empty>> {
    Box::new(ContractWrapper::new(execute, instantiate, query).with_migrate(migrate))
}

/// A synthetic dataset commitment: 32 bytes derived from `seed`.
pub fn dataset(seed: u8) -> HexBinary {
    HexBinary::from(
        (0..32u8)
            .map(|i| i.wrapping_mul(7).wrapping_add(seed))
            .collect::<Vec<_>>(),
    )
}

pub struct ConsentSuite {
    pub app: App,
    pub code_id: u64,
    pub contract: Addr,
    /// The governance contract in production; here an account.
    pub admin: Addr,
    pub council: Addr,
    pub patient: Addr,
    pub grantee: Addr,
    pub stranger: Addr,
}

impl Default for ConsentSuite {
    fn default() -> Self {
        Self::new()
    }
}

impl ConsentSuite {
    pub fn new() -> Self {
        let mut app = App::default();
        let addr = |name: &str| app.api().addr_make(name);
        let (admin, council, patient, grantee, stranger) = (
            addr("governance"),
            addr("security-council"),
            addr("patient-alice"),
            addr("researcher-bob"),
            addr("mallory"),
        );
        let code_id = app.store_code(consent_code());
        let contract = app
            .instantiate_contract(
                code_id,
                admin.clone(),
                &InstantiateMsg {
                    name: "HealthMesh Consent (test)".into(),
                    symbol: "HMCONSENT".into(),
                    admin: admin.to_string(),
                    pausers: vec![council.to_string()],
                    max_pause_seconds: None,
                    settlement_connections: vec![],
                },
                &[],
                "consent",
                Some(admin.to_string()),
            )
            .expect("instantiate consent");
        Self {
            app,
            code_id,
            contract,
            admin,
            council,
            patient,
            grantee,
            stranger,
        }
    }

    pub fn execute(
        &mut self,
        sender: &Addr,
        msg: &(impl Serialize + std::fmt::Debug),
    ) -> anyhow::Result<AppResponse> {
        self.app
            .execute_contract(sender.clone(), self.contract.clone(), msg, &[])
    }

    pub fn query<T: DeserializeOwned>(&self, msg: &impl Serialize) -> StdResult<T> {
        self.app.wrap().query_wasm_smart(&self.contract, msg)
    }

    /// The default grant: patient → grantee, trial eligibility on HbA1c and age, 30 days.
    pub fn grant_msg(&self) -> ExecuteMsg {
        ExecuteMsg::GrantConsent {
            grantee: self.grantee.to_string(),
            dataset: dataset(1),
            purpose: "trial-eligibility".into(),
            scope: vec!["hba1c".into(), "age".into()],
            expires: Expiration::AtTime(self.app.block_info().time.plus_seconds(30 * DAY)),
        }
    }

    /// Grant with the default message and return the new token id.
    pub fn grant(&mut self) -> String {
        let patient = self.patient.clone();
        let msg = self.grant_msg();
        let res = self.execute(&patient, &msg).expect("grant consent");
        token_id_of(&res)
    }

    pub fn advance_days(&mut self, days: u64) {
        self.app.update_block(|b| {
            b.time = b.time.plus_seconds(days * DAY);
            b.height += days * DAY / 5;
        });
    }

    pub fn check_access(&self, purpose: &str, attribute: &str) -> QueryMsg {
        QueryMsg::CheckAccess {
            grantee: self.grantee.to_string(),
            dataset: dataset(1),
            purpose: purpose.into(),
            attribute: attribute.into(),
            token_id: None,
            patient: None,
        }
    }
}

/// The `token_id` attribute of the `consent_granted` event.
pub fn token_id_of(res: &AppResponse) -> String {
    event_attr(res, "wasm-consent_granted", "token_id").expect("consent_granted event")
}

/// The value of `key` in the first event of type `ty`.
pub fn event_attr(res: &AppResponse, ty: &str, key: &str) -> Option<String> {
    res.events
        .iter()
        .find(|e| e.ty == ty)?
        .attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| a.value.clone())
}

/// The `token_id` of the `consent_granted` event in a list of events (any app type).
pub fn token_id_of_generic(events: &[cosmwasm_std::Event]) -> String {
    events
        .iter()
        .find(|e| e.ty == "wasm-consent_granted")
        .and_then(|e| e.attributes.iter().find(|a| a.key == "token_id"))
        .map(|a| a.value.clone())
        .expect("consent_granted event")
}
