//! Baymodels (Magnum's cluster templates): what a caller may set, the defaults, and the
//! validation rules of the spec (Magnum's texts included, since clients show them).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{Error, Result};

/// Longest value of the length-limited string fields, in characters.
pub const MAX_STRING_LENGTH: usize = 255;

/// The label whose value becomes `cluster_distro`.
pub const OS_DISTRO_LABEL: &str = "os_distro";

/// The container orchestration engines this project drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Coe {
    Kubernetes,
    Swarm,
}

impl Coe {
    /// `docker` is Liberty's name for swarm; `mesos`, `dcos`, `swarm-mode` and anything
    /// else are refused (no driver serves them).
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "kubernetes" => Ok(Self::Kubernetes),
            "swarm" | "docker" => Ok(Self::Swarm),
            other => Err(Error::UnsupportedCoe(other.to_owned())),
        }
    }

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kubernetes => "kubernetes",
            Self::Swarm => "swarm",
        }
    }

    /// The driver that serves bays of this COE.
    pub fn driver(self) -> &'static str {
        self.as_str()
    }

    /// Network drivers bays of this COE support.
    pub fn network_drivers(self) -> &'static [&'static str] {
        match self {
            Self::Kubernetes => &["flannel", "calico", "cilium"],
            Self::Swarm => &["docker", "flannel"],
        }
    }

    /// The network driver used when none is given.
    pub fn default_network_driver(self) -> &'static str {
        match self {
            Self::Kubernetes => "flannel",
            Self::Swarm => "docker",
        }
    }

    fn check_network_driver(self, driver: &str) -> Result<()> {
        if self.network_drivers().contains(&driver) {
            return Ok(());
        }
        // Magnum lists the choices with "unspecified" (meaning: leave it to the default).
        let mut supported = self.network_drivers().to_vec();
        supported.push("unspecified");
        Err(Error::UnsupportedNetworkDriver {
            driver: driver.to_owned(),
            supported: supported.join("/"),
        })
    }
}

/// Whether a bay's nodes are virtual or bare-metal machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ServerType {
    #[default]
    Vm,
    Bm,
}

impl ServerType {
    /// `vm` or `bm`; anything else is an invalid `server_type`.
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "vm" => Ok(Self::Vm),
            "bm" => Ok(Self::Bm),
            other => Err(invalid(
                "server_type",
                other,
                "Value should be one of: vm, bm",
            )),
        }
    }

    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vm => "vm",
            Self::Bm => "bm",
        }
    }
}

/// A stored baymodel: the caller's values with every default applied, plus system fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayModel {
    pub uuid: Uuid,
    pub name: Option<String>,
    pub coe: Coe,
    pub image_id: String,
    pub keypair_id: Option<String>,
    pub flavor_id: Option<String>,
    pub master_flavor_id: Option<String>,
    pub dns_nameserver: Option<String>,
    pub external_network_id: Option<String>,
    pub fixed_network: Option<String>,
    pub fixed_subnet: Option<String>,
    pub network_driver: String,
    pub volume_driver: Option<String>,
    pub apiserver_port: Option<i32>,
    pub docker_volume_size: Option<i32>,
    pub docker_storage_driver: Option<String>,
    pub ssh_authorized_key: Option<String>,
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
    pub insecure_registry: Option<String>,
    pub registry_enabled: bool,
    pub labels: BTreeMap<String, String>,
    pub tls_disabled: bool,
    pub public: bool,
    pub server_type: ServerType,
    pub master_lb_enabled: bool,
    pub floating_ip_enabled: bool,
    pub hidden: bool,
    pub tags: Option<String>,
    /// From the `os_distro` label when present.
    pub cluster_distro: Option<String>,
    /// The driver serving this baymodel's bays, from the COE.
    pub driver: String,
    /// Owner, from the creator's request context (never from input).
    pub project_id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    /// `None` until the first update.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Declares the caller-settable fields once: the input struct and the field names an
/// update mask may use are generated from the same list, so they cannot drift apart.
macro_rules! spec_fields {
    ($( $(#[$doc:meta])* $variant:ident => $field:ident : $ty:ty ),* $(,)?) => {
        /// What a caller may set on a baymodel; `None` means "not given" and takes the
        /// default (or, for required fields, fails validation).
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct NewBayModel {
            /// Client-chosen uuid (create only); generated when `None`.
            pub uuid: Option<String>,
            $( $(#[$doc])* pub $field: Option<$ty>, )*
        }

        /// A field of [`NewBayModel`] that an update may change (all but `uuid`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum BayModelField {
            $( $variant, )*
        }

        impl BayModelField {
            /// Every updatable field.
            pub const ALL: &'static [Self] = &[$( Self::$variant, )*];

            /// The field's name, as in the spec and the API.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => stringify!($field), )*
                }
            }

            fn copy(self, from: &NewBayModel, to: &mut NewBayModel) {
                match self {
                    $( Self::$variant => to.$field = from.$field.clone(), )*
                }
            }

            fn is_set(self, spec: &NewBayModel) -> bool {
                match self {
                    $( Self::$variant => spec.$field.is_some(), )*
                }
            }
        }
    };
}

spec_fields! {
    /// 1-255 characters; not unique.
    Name => name: String,
    /// Required: `kubernetes`, `swarm` (or its alias `docker`).
    Coe => coe: String,
    /// Required, 1-255 characters; stored as given.
    ImageId => image_id: String,
    /// 1-255 characters (optional, as on Magnum's cluster templates).
    KeypairId => keypair_id: String,
    FlavorId => flavor_id: String,
    MasterFlavorId => master_flavor_id: String,
    /// One IPv4 address.
    DnsNameserver => dns_nameserver: String,
    ExternalNetworkId => external_network_id: String,
    FixedNetwork => fixed_network: String,
    FixedSubnet => fixed_subnet: String,
    /// One of the COE's network drivers; the COE's default when `None`.
    NetworkDriver => network_driver: String,
    VolumeDriver => volume_driver: String,
    /// 1024-65535.
    ApiserverPort => apiserver_port: i32,
    /// GB, at least 1.
    DockerVolumeSize => docker_volume_size: i32,
    DockerStorageDriver => docker_storage_driver: String,
    /// At least one character.
    SshAuthorizedKey => ssh_authorized_key: String,
    HttpProxy => http_proxy: String,
    HttpsProxy => https_proxy: String,
    NoProxy => no_proxy: String,
    InsecureRegistry => insecure_registry: String,
    RegistryEnabled => registry_enabled: bool,
    /// `os_distro` sets `cluster_distro`.
    Labels => labels: BTreeMap<String, String>,
    TlsDisabled => tls_disabled: bool,
    Public => public: bool,
    /// `vm` (default) or `bm`.
    ServerType => server_type: String,
    MasterLbEnabled => master_lb_enabled: bool,
    /// Default true.
    FloatingIpEnabled => floating_ip_enabled: bool,
    Hidden => hidden: bool,
    /// Comma-separated, at most 255 characters.
    Tags => tags: String,
}

impl BayModelField {
    /// The field an update-mask path names. `uuid` cannot be changed; unknown names are
    /// refused rather than ignored, so a typo never silently does nothing.
    pub fn from_path(path: &str) -> Result<Self> {
        if path == "uuid" {
            return Err(Error::ImmutableField(path.to_owned()));
        }
        Self::ALL
            .iter()
            .copied()
            .find(|field| field.name() == path)
            .ok_or_else(|| Error::UnknownUpdateField(path.to_owned()))
    }
}

/// The owner a new baymodel gets: the creator's project and user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub project_id: String,
    pub user_id: String,
}

/// An update: the named fields take the values in `values`, and a named field whose value
/// is `None` goes back to its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BayModelChanges {
    fields: Vec<BayModelField>,
    values: NewBayModel,
}

impl BayModelChanges {
    /// Whether the update changes `field`.
    pub fn touches(&self, field: BayModelField) -> bool {
        self.fields.contains(&field)
    }

    /// Field-mask semantics (AIP-134): the paths name the fields to change; `*` names
    /// every field; no path at all means every field `values` sets.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>, values: NewBayModel) -> Result<Self> {
        let mut fields = Vec::new();
        let mut named_any = false;
        for path in paths {
            named_any = true;
            if path == "*" {
                fields.extend_from_slice(BayModelField::ALL);
            } else {
                fields.push(BayModelField::from_path(path)?);
            }
        }
        if !named_any {
            if values.uuid.is_some() {
                return Err(Error::ImmutableField("uuid".to_owned()));
            }
            fields = BayModelField::ALL
                .iter()
                .copied()
                .filter(|field| field.is_set(&values))
                .collect();
        }
        fields.sort_unstable();
        fields.dedup();
        Ok(Self { fields, values })
    }

    /// The fields this update changes.
    pub fn fields(&self) -> &[BayModelField] {
        &self.fields
    }
}

/// The system fields a validated baymodel gets besides the caller's values.
struct Identity {
    uuid: Uuid,
    project_id: String,
    user_id: String,
    created_at: DateTime<Utc>,
    updated_at: Option<DateTime<Utc>>,
}

impl NewBayModel {
    /// Validates and applies the defaults, giving the baymodel `owner` creates at `now`.
    pub fn into_baymodel(self, owner: Owner, now: DateTime<Utc>) -> Result<BayModel> {
        let uuid = match self.uuid.as_deref() {
            None => Uuid::new_v4(),
            Some(given) => Uuid::parse_str(given).map_err(|_| {
                invalid(
                    "uuid",
                    given,
                    &format!("Expected a uuid but received {given}."),
                )
            })?,
        };
        validated(
            self,
            Identity {
                uuid,
                project_id: owner.project_id,
                user_id: owner.user_id,
                created_at: now,
                updated_at: None,
            },
        )
    }
}

impl BayModel {
    /// This baymodel with `changes` applied at `now`, validated as on create.
    pub fn apply(&self, changes: &BayModelChanges, now: DateTime<Utc>) -> Result<Self> {
        let mut input = self.to_input();
        for field in &changes.fields {
            field.copy(&changes.values, &mut input);
        }
        validated(
            input,
            Identity {
                uuid: self.uuid,
                project_id: self.project_id.clone(),
                user_id: self.user_id.clone(),
                created_at: self.created_at,
                updated_at: Some(now),
            },
        )
    }

    /// The input that would produce this baymodel.
    fn to_input(&self) -> NewBayModel {
        NewBayModel {
            uuid: Some(self.uuid.to_string()),
            name: self.name.clone(),
            coe: Some(self.coe.as_str().to_owned()),
            image_id: Some(self.image_id.clone()),
            keypair_id: self.keypair_id.clone(),
            flavor_id: self.flavor_id.clone(),
            master_flavor_id: self.master_flavor_id.clone(),
            dns_nameserver: self.dns_nameserver.clone(),
            external_network_id: self.external_network_id.clone(),
            fixed_network: self.fixed_network.clone(),
            fixed_subnet: self.fixed_subnet.clone(),
            network_driver: Some(self.network_driver.clone()),
            volume_driver: self.volume_driver.clone(),
            apiserver_port: self.apiserver_port,
            docker_volume_size: self.docker_volume_size,
            docker_storage_driver: self.docker_storage_driver.clone(),
            ssh_authorized_key: self.ssh_authorized_key.clone(),
            http_proxy: self.http_proxy.clone(),
            https_proxy: self.https_proxy.clone(),
            no_proxy: self.no_proxy.clone(),
            insecure_registry: self.insecure_registry.clone(),
            registry_enabled: Some(self.registry_enabled),
            labels: Some(self.labels.clone()),
            tls_disabled: Some(self.tls_disabled),
            public: Some(self.public),
            server_type: Some(self.server_type.as_str().to_owned()),
            master_lb_enabled: Some(self.master_lb_enabled),
            floating_ip_enabled: Some(self.floating_ip_enabled),
            hidden: Some(self.hidden),
            tags: self.tags.clone(),
        }
    }
}

/// The one validation path of create and update: field types first (in field order, the
/// first failure wins), then the rules that span fields (COE and network driver).
fn validated(input: NewBayModel, identity: Identity) -> Result<BayModel> {
    let name = bounded("name", input.name, 1)?;
    let coe = required("coe", input.coe)?;
    let image_id = required_bounded("image_id", input.image_id)?;
    let keypair_id = bounded("keypair_id", input.keypair_id, 1)?;
    let flavor_id = bounded("flavor_id", input.flavor_id, 1)?;
    let master_flavor_id = bounded("master_flavor_id", input.master_flavor_id, 1)?;
    let dns_nameserver = ipv4("dns_nameserver", input.dns_nameserver)?;
    let external_network_id = bounded("external_network_id", input.external_network_id, 1)?;
    let fixed_network = bounded("fixed_network", input.fixed_network, 1)?;
    let fixed_subnet = bounded("fixed_subnet", input.fixed_subnet, 1)?;
    let network_driver = bounded("network_driver", input.network_driver, 1)?;
    let volume_driver = bounded("volume_driver", input.volume_driver, 1)?;
    let apiserver_port = in_range("apiserver_port", input.apiserver_port, 1024, Some(65535))?;
    let docker_volume_size = in_range("docker_volume_size", input.docker_volume_size, 1, None)?;
    let docker_storage_driver = bounded("docker_storage_driver", input.docker_storage_driver, 1)?;
    let ssh_authorized_key = non_empty("ssh_authorized_key", input.ssh_authorized_key)?;
    let http_proxy = bounded("http_proxy", input.http_proxy, 1)?;
    let https_proxy = bounded("https_proxy", input.https_proxy, 1)?;
    let no_proxy = bounded("no_proxy", input.no_proxy, 1)?;
    let insecure_registry = bounded("insecure_registry", input.insecure_registry, 1)?;
    let server_type = match input.server_type {
        None => ServerType::default(),
        Some(value) => ServerType::parse(&value)?,
    };
    let tags = bounded("tags", input.tags, 0)?;
    let labels = input.labels.unwrap_or_default();

    let coe = Coe::parse(&coe)?;
    let network_driver = match network_driver {
        None => coe.default_network_driver().to_owned(),
        Some(driver) => {
            coe.check_network_driver(&driver)?;
            driver
        }
    };
    let cluster_distro = labels
        .get(OS_DISTRO_LABEL)
        .filter(|distro| !distro.is_empty())
        .cloned();

    Ok(BayModel {
        uuid: identity.uuid,
        name,
        coe,
        image_id,
        keypair_id,
        flavor_id,
        master_flavor_id,
        dns_nameserver,
        external_network_id,
        fixed_network,
        fixed_subnet,
        network_driver,
        volume_driver,
        apiserver_port,
        docker_volume_size,
        docker_storage_driver,
        ssh_authorized_key,
        http_proxy,
        https_proxy,
        no_proxy,
        insecure_registry,
        registry_enabled: input.registry_enabled.unwrap_or(false),
        labels,
        tls_disabled: input.tls_disabled.unwrap_or(false),
        public: input.public.unwrap_or(false),
        server_type,
        master_lb_enabled: input.master_lb_enabled.unwrap_or(false),
        floating_ip_enabled: input.floating_ip_enabled.unwrap_or(true),
        hidden: input.hidden.unwrap_or(false),
        tags,
        cluster_distro,
        driver: coe.driver().to_owned(),
        project_id: identity.project_id,
        user_id: identity.user_id,
        created_at: identity.created_at,
        updated_at: identity.updated_at,
    })
}

/// WSME's `InvalidInput`.
pub(crate) fn invalid(field: &'static str, value: &str, reason: &str) -> Error {
    Error::InvalidField {
        field,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

fn required(field: &'static str, value: Option<String>) -> Result<String> {
    value.ok_or_else(|| invalid(field, "None", "Mandatory field missing."))
}

fn required_bounded(field: &'static str, value: Option<String>) -> Result<String> {
    let value = required(field, value)?;
    check_length(field, &value, 1, Some(MAX_STRING_LENGTH))?;
    Ok(value)
}

/// `min`..=255 characters when given.
pub(crate) fn bounded(
    field: &'static str,
    value: Option<String>,
    min: usize,
) -> Result<Option<String>> {
    if let Some(value) = &value {
        check_length(field, value, min, Some(MAX_STRING_LENGTH))?;
    }
    Ok(value)
}

/// At least one character when given, no upper bound.
fn non_empty(field: &'static str, value: Option<String>) -> Result<Option<String>> {
    if let Some(value) = &value {
        check_length(field, value, 1, None)?;
    }
    Ok(value)
}

fn check_length(field: &'static str, value: &str, min: usize, max: Option<usize>) -> Result<()> {
    // Limits count characters, not bytes.
    let length = value.chars().count();
    if length < min {
        return Err(invalid(
            field,
            value,
            &format!("Value should have a minimum character requirement of {min}"),
        ));
    }
    if let Some(max) = max.filter(|max| length > *max) {
        return Err(invalid(
            field,
            value,
            &format!("Value should have a maximum character requirement of {max}"),
        ));
    }
    Ok(())
}

fn in_range(
    field: &'static str,
    value: Option<i32>,
    min: i32,
    max: Option<i32>,
) -> Result<Option<i32>> {
    let Some(number) = value else {
        return Ok(None);
    };
    if number < min {
        return Err(invalid(
            field,
            &number.to_string(),
            &format!("Value should be greater or equal to {min}"),
        ));
    }
    if let Some(max) = max.filter(|max| number > *max) {
        return Err(invalid(
            field,
            &number.to_string(),
            &format!("Value should be lower or equal to {max}"),
        ));
    }
    Ok(Some(number))
}

fn ipv4(field: &'static str, value: Option<String>) -> Result<Option<String>> {
    if let Some(address) = &value
        && address.parse::<Ipv4Addr>().is_err()
    {
        return Err(invalid(field, address, "Value should be IPv4 format"));
    }
    Ok(value)
}

/// Declares the sortable columns once: the enum and its names come from one list.
macro_rules! sort_keys {
    ($( $variant:ident => $name:literal ),* $(,)?) => {
        /// A stored scalar column a baymodel list may be sorted by (`labels` is not one).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum BayModelSortKey {
            $( $variant, )*
        }

        impl BayModelSortKey {
            /// Every sortable column.
            pub const ALL: &'static [Self] = &[$( Self::$variant, )*];

            /// The column's name, as callers spell it in `sort_key`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                }
            }
        }
    };
}

sort_keys! {
    Id => "id",
    Uuid => "uuid",
    Name => "name",
    Coe => "coe",
    ImageId => "image_id",
    KeypairId => "keypair_id",
    FlavorId => "flavor_id",
    MasterFlavorId => "master_flavor_id",
    DnsNameserver => "dns_nameserver",
    ExternalNetworkId => "external_network_id",
    FixedNetwork => "fixed_network",
    FixedSubnet => "fixed_subnet",
    NetworkDriver => "network_driver",
    VolumeDriver => "volume_driver",
    ApiserverPort => "apiserver_port",
    DockerVolumeSize => "docker_volume_size",
    DockerStorageDriver => "docker_storage_driver",
    SshAuthorizedKey => "ssh_authorized_key",
    HttpProxy => "http_proxy",
    HttpsProxy => "https_proxy",
    NoProxy => "no_proxy",
    InsecureRegistry => "insecure_registry",
    RegistryEnabled => "registry_enabled",
    TlsDisabled => "tls_disabled",
    Public => "public",
    ServerType => "server_type",
    MasterLbEnabled => "master_lb_enabled",
    FloatingIpEnabled => "floating_ip_enabled",
    Hidden => "hidden",
    Tags => "tags",
    ClusterDistro => "cluster_distro",
    Driver => "driver",
    ProjectId => "project_id",
    UserId => "user_id",
    CreatedAt => "created_at",
    UpdatedAt => "updated_at",
}

impl BayModelSortKey {
    /// `""` means `id` (creation order); an unknown name is refused.
    pub fn parse(value: &str) -> Result<Self> {
        if value.is_empty() {
            return Ok(Self::Id);
        }
        Self::ALL
            .iter()
            .copied()
            .find(|key| key.name() == value)
            .ok_or_else(|| Error::InvalidSortKey(value.to_owned()))
    }
}

#[cfg(test)]
#[path = "baymodel_test.rs"]
mod tests;
