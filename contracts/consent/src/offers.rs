//! Patients' standing access offers: published and withdrawn by the patient, sold through the
//! settlement channel (`settle.rs`), listed newest first.

use cosmwasm_std::{
    to_json_binary, Addr, Api, Binary, Coin, Deps, DepsMut, Env, Event, HexBinary, MessageInfo,
    Order, Response, Storage,
};
use cw_storage_plus::Bound;
use healthmesh_controllers::pagination::clamp_limit;
use healthmesh_controllers::validate;
use healthmesh_types::consent::{
    Offer, OfferStatus, OffersResponse, MAX_ATTRIBUTE_LEN, MAX_OFFER_BUYERS,
    MAX_OFFER_DURATION_SECONDS, MAX_OFFER_PURPOSES, MAX_OFFER_TEXT, MAX_PURPOSE_LEN, MAX_SCOPE,
};
use healthmesh_types::events::{self, attr};

use crate::state::{offers, OFFER_COUNT, PAUSE};
use crate::ContractError;

/// The fields of a `PublishOffer` message.
pub struct OfferTerms {
    pub dataset: HexBinary,
    pub purposes: Vec<String>,
    pub scope: Vec<String>,
    pub max_duration_seconds: u64,
    pub price: Coin,
    pub payout: Option<String>,
    pub buyers: Option<Vec<String>>,
    pub max_sales: Option<u32>,
}

pub fn publish(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    terms: OfferTerms,
) -> Result<Response, ContractError> {
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    validate::commitment("dataset", &terms.dataset)?;
    validate::identifier_set(
        "purposes",
        &terms.purposes,
        MAX_OFFER_PURPOSES,
        MAX_PURPOSE_LEN,
    )?;
    validate::identifier_set("scope", &terms.scope, MAX_SCOPE, MAX_ATTRIBUTE_LEN)?;
    if !(1..=MAX_OFFER_DURATION_SECONDS).contains(&terms.max_duration_seconds) {
        return Err(ContractError::InvalidOffer(format!(
            "max_duration_seconds must be 1 to {MAX_OFFER_DURATION_SECONDS}"
        )));
    }
    validate::bounded_text("price.denom", &terms.price.denom, MAX_OFFER_TEXT)?;
    if terms.price.amount.is_zero() {
        return Err(ContractError::InvalidOffer(
            "price must be more than 0".into(),
        ));
    }
    // An address on the billing chain: its prefix may differ from this chain's, so only its
    // form is checked here; the billing contract pays the patient's own key if it is unusable.
    if let Some(payout) = &terms.payout {
        validate::bounded_text("payout", payout, MAX_OFFER_TEXT)?;
        if !payout.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ContractError::InvalidOffer(
                "payout must be a bech32 address".into(),
            ));
        }
    }
    let buyers = terms
        .buyers
        .map(|list| validate_buyers(deps.api, &list, &info.sender))
        .transpose()?;
    if terms.max_sales == Some(0) {
        return Err(ContractError::InvalidOffer(
            "max_sales must be at least 1".into(),
        ));
    }
    let id = OFFER_COUNT.may_load(deps.storage)?.unwrap_or_default() + 1;
    OFFER_COUNT.save(deps.storage, &id)?;
    let offer = Offer {
        id,
        patient: info.sender,
        dataset: terms.dataset,
        purposes: terms.purposes,
        scope: terms.scope,
        max_duration_seconds: terms.max_duration_seconds,
        price: terms.price,
        payout: terms.payout,
        buyers,
        max_sales: terms.max_sales,
        sales: 0,
        created_at: env.block.time,
        status: OfferStatus::Open,
    };
    offers().save(deps.storage, id, &offer)?;
    let event = offer_event(events::OFFER_PUBLISHED, &offer)
        .add_attribute("purposes", offer.purposes.join(","))
        .add_attribute("scope", offer.scope.join(","))
        .add_attribute("price", offer.price.to_string())
        .add_attribute(
            "max_duration_seconds",
            offer.max_duration_seconds.to_string(),
        )
        .add_attribute(
            "max_sales",
            offer.max_sales.map(|n| n.to_string()).unwrap_or_default(),
        );
    Ok(Response::new()
        .add_attribute("action", "publish_offer")
        .add_attribute(attr::OFFER_ID, id.to_string())
        .add_event(event))
}

fn validate_buyers(
    api: &dyn Api,
    list: &[String],
    patient: &Addr,
) -> Result<Vec<Addr>, ContractError> {
    if list.is_empty() || list.len() > MAX_OFFER_BUYERS {
        return Err(ContractError::InvalidOffer(format!(
            "buyers must list 1 to {MAX_OFFER_BUYERS} addresses (or be left out: anyone)"
        )));
    }
    let mut buyers: Vec<Addr> = Vec::with_capacity(list.len());
    for buyer in list {
        let buyer = api.addr_validate(buyer)?;
        if buyer == *patient {
            return Err(ContractError::SelfGrant);
        }
        if buyers.contains(&buyer) {
            return Err(ContractError::InvalidOffer(format!(
                "buyer {buyer} listed twice"
            )));
        }
        buyers.push(buyer);
    }
    Ok(buyers)
}

/// Never paused: a patient can always take an offer back.
pub fn withdraw(
    deps: DepsMut,
    env: Env,
    info: MessageInfo,
    offer_id: u64,
) -> Result<Response, ContractError> {
    let mut offer = load_offer(deps.storage, offer_id)?;
    if offer.patient != info.sender {
        return Err(ContractError::NotOfferPatient {
            offer_id,
            sender: info.sender,
        });
    }
    if let OfferStatus::Withdrawn { .. } = offer.status {
        return Err(ContractError::OfferWithdrawn(offer_id));
    }
    offer.status = OfferStatus::Withdrawn { at: env.block.time };
    offers().save(deps.storage, offer_id, &offer)?;
    Ok(Response::new()
        .add_attribute("action", "withdraw_offer")
        .add_attribute(attr::OFFER_ID, offer_id.to_string())
        .add_event(offer_event(events::OFFER_WITHDRAWN, &offer)))
}

pub fn load_offer(storage: &dyn Storage, offer_id: u64) -> Result<Offer, ContractError> {
    offers()
        .may_load(storage, offer_id)?
        .ok_or(ContractError::OfferNotFound(offer_id))
}

pub fn offer_event(kind: &str, offer: &Offer) -> Event {
    Event::new(kind)
        .add_attribute(attr::OFFER_ID, offer.id.to_string())
        .add_attribute("patient", &offer.patient)
        .add_attribute("dataset", offer.dataset.to_hex())
}

pub fn query_offer(deps: Deps, offer_id: u64) -> Result<Binary, ContractError> {
    Ok(to_json_binary(&load_offer(deps.storage, offer_id)?)?)
}

pub fn query_offers(
    deps: Deps,
    patient: Option<String>,
    start_before: Option<u64>,
    limit: Option<u32>,
) -> Result<Binary, ContractError> {
    let max = start_before.map(Bound::exclusive);
    let limit = clamp_limit(limit);
    let page = match patient {
        Some(patient) => offers()
            .idx
            .patient
            .prefix(deps.api.addr_validate(&patient)?)
            .range(deps.storage, None, max, Order::Descending)
            .take(limit)
            .map(|item| item.map(|(_, o)| o))
            .collect::<Result<Vec<_>, _>>()?,
        None => offers()
            .range(deps.storage, None, max, Order::Descending)
            .take(limit)
            .map(|item| item.map(|(_, o)| o))
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(to_json_binary(&OffersResponse { offers: page })?)
}
