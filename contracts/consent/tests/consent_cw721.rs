//! A third-party cw721 client — the cw721 crate's own `Cw721QueryMsg` / `Cw721ExecuteMsg` —
//! talks to the consent contract and gets standard answers and refusals.

use cosmwasm_std::{Addr, Binary, Empty};
use cw721::msg::{
    AllNftInfoResponse, CollectionInfoAndExtensionResponse, Cw721ExecuteMsg, Cw721QueryMsg,
    MinterResponse, NftInfoResponse, NumTokensResponse, OwnerOfResponse, TokensResponse,
};
use cw_ownable::Ownership;
use healthmesh_consent::ContractError;
use healthmesh_testing::consent::{dataset, ConsentSuite};
use healthmesh_testing::{contract_error, storage_snapshot};
use healthmesh_types::consent::{ConsentRecord, ConsentStatus};

type Cw721Query = Cw721QueryMsg<ConsentRecord, Option<Empty>, Empty>;
type Cw721Execute = Cw721ExecuteMsg<Option<Empty>, Option<Empty>, Empty>;

#[test]
fn cw721_queries_return_standard_answers() {
    let mut suite = ConsentSuite::new();
    let first = suite.grant();
    let second = suite.grant();
    assert_eq!((first.as_str(), second.as_str()), ("1", "2"));

    let owner: OwnerOfResponse = suite
        .query(&Cw721Query::OwnerOf {
            token_id: first.clone(),
            include_expired: None,
        })
        .unwrap();
    assert_eq!(owner.owner, suite.grantee.to_string());
    assert!(owner.approvals.is_empty());

    let info: NftInfoResponse<ConsentRecord> = suite
        .query(&Cw721Query::NftInfo {
            token_id: first.clone(),
        })
        .unwrap();
    assert_eq!(info.token_uri, None);
    assert_eq!(info.extension.patient, suite.patient);
    assert_eq!(info.extension.grantee, suite.grantee);
    assert_eq!(info.extension.dataset, dataset(1));
    assert_eq!(info.extension.purpose, "trial-eligibility");
    assert_eq!(info.extension.scope, vec!["hba1c", "age"]);
    assert_eq!(info.extension.status, ConsentStatus::Active);

    let all: AllNftInfoResponse<ConsentRecord> = suite
        .query(&Cw721Query::AllNftInfo {
            token_id: second.clone(),
            include_expired: Some(true),
        })
        .unwrap();
    assert_eq!(all.access.owner, suite.grantee.to_string());
    assert_eq!(all.info.extension.patient, suite.patient);

    let tokens: TokensResponse = suite
        .query(&Cw721Query::Tokens {
            owner: suite.grantee.to_string(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert_eq!(tokens.tokens, vec![first.clone(), second.clone()]);
    let none: TokensResponse = suite
        .query(&Cw721Query::Tokens {
            owner: suite.patient.to_string(),
            start_after: None,
            limit: None,
        })
        .unwrap();
    assert!(none.tokens.is_empty(), "the patient holds no token");

    let all_tokens: TokensResponse = suite
        .query(&Cw721Query::AllTokens {
            start_after: Some(first),
            limit: None,
        })
        .unwrap();
    assert_eq!(all_tokens.tokens, vec![second]);

    let count: NumTokensResponse = suite.query(&Cw721Query::NumTokens {}).unwrap();
    assert_eq!(count.count, 2);

    let collection: CollectionInfoAndExtensionResponse<Option<Empty>> = suite
        .query(&Cw721Query::GetCollectionInfoAndExtension {})
        .unwrap();
    assert_eq!(collection.name, "HealthMesh Consent (test)");
    assert_eq!(collection.symbol, "HMCONSENT");
    #[allow(deprecated)]
    let legacy: CollectionInfoAndExtensionResponse<Option<Empty>> =
        suite.query(&Cw721Query::ContractInfo {}).unwrap();
    assert_eq!(legacy.symbol, "HMCONSENT");

    #[allow(deprecated)]
    let minter: MinterResponse = suite.query(&Cw721Query::Minter {}).unwrap();
    assert_eq!(minter.minter, None, "every patient mints their own consent");
    let creator: Ownership<Addr> = suite.query(&Cw721Query::GetCreatorOwnership {}).unwrap();
    assert_eq!(creator.owner, Some(suite.admin.clone()));
}

#[test]
fn cw721_transfers_and_approvals_are_refused_without_state_change() {
    let mut suite = ConsentSuite::new();
    let token_id = suite.grant();
    let grantee = suite.grantee.clone();
    let other = suite.stranger.to_string();
    let before = storage_snapshot(&suite.app, &suite.contract);

    let refused: Vec<(Cw721Execute, &str)> = vec![
        (
            Cw721Execute::TransferNft {
                recipient: other.clone(),
                token_id: token_id.clone(),
            },
            "transfer_nft",
        ),
        (
            Cw721Execute::SendNft {
                contract: other.clone(),
                token_id: token_id.clone(),
                msg: Binary::default(),
            },
            "send_nft",
        ),
        (
            Cw721Execute::Approve {
                spender: other.clone(),
                token_id: token_id.clone(),
                expires: None,
            },
            "approve",
        ),
        (
            Cw721Execute::ApproveAll {
                operator: other.clone(),
                expires: None,
            },
            "approve_all",
        ),
        (
            Cw721Execute::Revoke {
                spender: other.clone(),
                token_id: token_id.clone(),
            },
            "revoke (approval)",
        ),
        (Cw721Execute::RevokeAll { operator: other }, "revoke_all"),
    ];
    for (msg, what) in refused {
        let err = suite.execute(&grantee, &msg).unwrap_err();
        assert_eq!(
            contract_error::<ContractError>(err),
            ContractError::NonTransferable(what)
        );
    }
    let err = suite
        .execute(&grantee, &Cw721Execute::Burn { token_id })
        .unwrap_err();
    assert_eq!(
        contract_error::<ContractError>(err),
        ContractError::BurnRefused
    );

    assert_eq!(storage_snapshot(&suite.app, &suite.contract), before);
}
