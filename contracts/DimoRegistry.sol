// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IERC721Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";

import {INodeNft} from "./INodeNft.sol";
import {AttributeInfoPair, AftermarketDeviceInfos, MintSyntheticDeviceInput} from "./Types.sol";

/// @title DimoRegistry
/// @notice The registry of vehicles, aftermarket devices, synthetic devices, manufacturers and
/// integrations. Each node type is an NFT (NodeNft) whose minting the registry controls; links and
/// device addresses live here. Function, event, error and EIP-712 names and signatures are those of
/// the DIMO Registry, so a client written for one works against the other. There is no module
/// router, no DIMO credits and no licences.
/// @dev Every `*Sign` function is meant to be relayed: a role on the caller, signatures from the
/// users. Signatures are checked with SignatureChecker (ECDSA for EOAs, ERC-1271 for contracts).
/// IERC721Errors is inherited only so the node NFTs' reverts, which bubble up through the registry
/// (e.g. a contract owner that cannot receive NFTs), decode with the registry's ABI.
contract DimoRegistry is AccessControl, EIP712, IERC721Errors {
    // Role ids are keccak256 of their names, as in DIMO's Roles.sol.
    bytes32 internal constant CLAIM_AD_ROLE = keccak256("CLAIM_AD_ROLE");
    bytes32 internal constant PAIR_AD_ROLE = keccak256("PAIR_AD_ROLE");
    bytes32 internal constant UNPAIR_AD_ROLE = keccak256("UNPAIR_AD_ROLE");
    bytes32 internal constant MINT_VEHICLE_ROLE = keccak256("MINT_VEHICLE_ROLE");
    bytes32 internal constant BURN_VEHICLE_ROLE = keccak256("BURN_VEHICLE_ROLE");
    bytes32 internal constant MINT_SD_ROLE = keccak256("MINT_SD_ROLE");
    bytes32 internal constant BURN_SD_ROLE = keccak256("BURN_SD_ROLE");
    bytes32 internal constant MINT_MANUFACTURER_ROLE = keccak256("MINT_MANUFACTURER_ROLE");
    bytes32 internal constant MINT_INTEGRATION_ROLE = keccak256("MINT_INTEGRATION_ROLE");
    bytes32 internal constant DEV_AD_UNCLAIM_ROLE = keccak256("DEV_AD_UNCLAIM_ROLE");
    // Ours: DIMO has no relayed form of setPrivilege.
    bytes32 internal constant SET_PRIVILEGES_ROLE = keccak256("SET_PRIVILEGES_ROLE");

    /// @dev Privilege on a manufacturer token that lets a non-owner mint its devices (DIMO's minter).
    uint256 internal constant MANUFACTURER_MINTER_PRIVILEGE = 1;

    bytes32 internal constant CLAIM_TYPEHASH =
        keccak256("ClaimAftermarketDeviceSign(uint256 aftermarketDeviceNode,address owner)");
    bytes32 internal constant PAIR_TYPEHASH =
        keccak256("PairAftermarketDeviceSign(uint256 aftermarketDeviceNode,uint256 vehicleNode)");
    bytes32 internal constant UNPAIR_TYPEHASH =
        keccak256("UnPairAftermarketDeviceSign(uint256 aftermarketDeviceNode,uint256 vehicleNode)");
    bytes32 internal constant MINT_VEHICLE_WITH_DD_TYPEHASH =
        keccak256(
            "MintVehicleWithDeviceDefinitionSign(uint256 manufacturerNode,address owner,string deviceDefinitionId,string[] attributes,string[] infos)"
        );
    bytes32 internal constant BURN_VEHICLE_TYPEHASH = keccak256("BurnVehicleSign(uint256 vehicleNode)");
    bytes32 internal constant MINT_SD_TYPEHASH =
        keccak256("MintSyntheticDeviceSign(uint256 integrationNode,uint256 vehicleNode)");
    bytes32 internal constant BURN_SD_TYPEHASH =
        keccak256("BurnSyntheticDeviceSign(uint256 vehicleNode,uint256 syntheticDeviceNode)");
    bytes32 internal constant SET_PRIVILEGES_TYPEHASH =
        keccak256("SetPrivilegesSign(uint256 tokenId,uint256[] privIds,address user,uint256 expires,uint256 nonce)");

    // ----- Errors (DIMO's names and parameter types) -----
    error ZeroAddress();
    error Unauthorized(address addr);
    error AttributeExists(string attr);
    error AttributeNotWhitelisted(string attr);
    error InvalidParentNode(uint256 id);
    error InvalidNode(address proxy, uint256 id);
    error VehiclePaired(uint256 id);
    error VehicleNotPaired(uint256 id);
    error InvalidSigner();
    error InvalidOwnerSignature();
    error InvalidAdSignature();
    error InvalidSdSignature();
    error DeviceAlreadyRegistered(address addr);
    error DeviceAlreadyClaimed(uint256 id);
    error AdNotClaimed(uint256 id);
    error AdPaired(uint256 id);
    error AdNotPaired(uint256 id);
    error OwnersDoNotMatch();
    // Ours (DIMO reverts with strings here).
    error NameAlreadyRegistered(string name);
    error EmptyName();
    error NodeContractsAlreadySet();
    error InvalidPrivilegeNonce(uint256 tokenId, address user, uint256 expected);

    // ----- Events (DIMO's signatures) -----
    event AttributeWhitelisted(address indexed idProxy, string attribute);
    event ManufacturerNodeMinted(string name, uint256 tokenId, address indexed owner);
    event ManufacturerAttributeSet(uint256 tokenId, string attribute, string info);
    event IntegrationNodeMinted(uint256 indexed tokenId, address indexed owner);
    event IntegrationAttributeSet(uint256 indexed tokenId, string attribute, string info);
    event AftermarketDeviceNodeMinted(
        uint256 indexed manufacturerId,
        uint256 tokenId,
        address indexed aftermarketDeviceAddress,
        address indexed owner
    );
    event AftermarketDeviceAttributeSet(uint256 tokenId, string attribute, string info);
    event AftermarketDeviceClaimed(uint256 aftermarketDeviceNode, address indexed owner);
    event AftermarketDeviceUnclaimed(uint256 indexed aftermarketDeviceNode, address indexed owner);
    event AftermarketDevicePaired(uint256 aftermarketDeviceNode, uint256 vehicleNode, address indexed owner);
    event AftermarketDeviceUnpaired(uint256 aftermarketDeviceNode, uint256 vehicleNode, address indexed owner);
    event VehicleNodeMintedWithDeviceDefinition(
        uint256 indexed manufacturerId,
        uint256 indexed vehicleId,
        address indexed owner,
        string deviceDefinitionId
    );
    event VehicleAttributeSet(uint256 tokenId, string attribute, string info);
    event VehicleNodeBurned(uint256 indexed vehicleNode, address indexed owner);
    event SyntheticDeviceNodeMinted(
        uint256 integrationNode,
        uint256 syntheticDeviceNode,
        uint256 indexed vehicleNode,
        address indexed syntheticDeviceAddress,
        address indexed owner
    );
    event SyntheticDeviceAttributeSet(uint256 indexed tokenId, string attribute, string info);
    event SyntheticDeviceNodeBurned(
        uint256 indexed syntheticDeviceNode,
        uint256 indexed vehicleNode,
        address indexed owner
    );

    INodeNft public manufacturerIdProxyAddress;
    INodeNft public integrationIdProxyAddress;
    INodeNft public vehicleIdProxyAddress;
    INodeNft public aftermarketDeviceIdProxyAddress;
    INodeNft public syntheticDeviceIdProxyAddress;

    mapping(address idProxy => mapping(string attribute => bool)) private _whitelisted;
    mapping(address idProxy => mapping(uint256 tokenId => uint256 parent)) private _parentNode;
    mapping(address idProxy => mapping(uint256 tokenId => mapping(string attribute => string info))) private _infos;

    mapping(string name => uint256 tokenId) private _manufacturerIdByName;
    mapping(uint256 tokenId => string name) private _manufacturerNameById;
    mapping(string name => uint256 tokenId) private _integrationIdByName;
    mapping(uint256 tokenId => string name) private _integrationNameById;

    mapping(address deviceAddress => uint256 tokenId) private _adIdByAddress;
    mapping(uint256 tokenId => address deviceAddress) private _adAddressById;
    mapping(uint256 tokenId => bool) private _adClaimed;
    mapping(uint256 vehicleNode => uint256 adNode) private _vehicleToAd;
    mapping(uint256 adNode => uint256 vehicleNode) private _adToVehicle;

    mapping(address deviceAddress => uint256 tokenId) private _sdIdByAddress;
    mapping(uint256 tokenId => address deviceAddress) private _sdAddressById;
    mapping(uint256 vehicleNode => uint256 sdNode) private _vehicleToSd;
    mapping(uint256 sdNode => uint256 vehicleNode) private _sdToVehicle;

    mapping(uint256 vehicleNode => string deviceDefinitionId) private _deviceDefinitionIdByVehicle;

    constructor(address admin) EIP712("DIMO", "1") {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ***** Admin *****

    /// @notice Wires the node NFTs (each deployed with this registry's address). Once only.
    /// @dev Also whitelists the attributes the service writes (vehicle Make/Model/Year/ImageURI,
    /// device Serial/IMEI/HardwareRevision); `addAttribute` adds more.
    function setNodeContracts(
        address manufacturerId,
        address integrationId,
        address vehicleId,
        address aftermarketDeviceId,
        address syntheticDeviceId
    ) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(vehicleIdProxyAddress) != address(0)) revert NodeContractsAlreadySet();
        if (
            manufacturerId == address(0) ||
            integrationId == address(0) ||
            vehicleId == address(0) ||
            aftermarketDeviceId == address(0) ||
            syntheticDeviceId == address(0)
        ) revert ZeroAddress();
        manufacturerIdProxyAddress = INodeNft(manufacturerId);
        integrationIdProxyAddress = INodeNft(integrationId);
        vehicleIdProxyAddress = INodeNft(vehicleId);
        aftermarketDeviceIdProxyAddress = INodeNft(aftermarketDeviceId);
        syntheticDeviceIdProxyAddress = INodeNft(syntheticDeviceId);

        _addAttribute(vehicleId, "Make");
        _addAttribute(vehicleId, "Model");
        _addAttribute(vehicleId, "Year");
        _addAttribute(vehicleId, "ImageURI");
        _addAttribute(aftermarketDeviceId, "Serial");
        _addAttribute(aftermarketDeviceId, "IMEI");
        _addAttribute(aftermarketDeviceId, "HardwareRevision");
    }

    function addAttribute(address idProxy, string calldata attribute) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_whitelisted[idProxy][attribute]) revert AttributeExists(attribute);
        _addAttribute(idProxy, attribute);
    }

    // ***** Manufacturers and integrations *****

    /// @notice Mints a manufacturer (a vehicle make or a device maker) under a unique name.
    function mintManufacturer(
        address owner,
        string calldata name,
        AttributeInfoPair[] calldata attrInfoPairList
    ) external onlyRole(MINT_MANUFACTURER_ROLE) returns (uint256 tokenId) {
        if (bytes(name).length == 0) revert EmptyName();
        if (_manufacturerIdByName[name] != 0) revert NameAlreadyRegistered(name);
        tokenId = manufacturerIdProxyAddress.safeMint(owner);
        _manufacturerIdByName[name] = tokenId;
        _manufacturerNameById[tokenId] = name;
        emit ManufacturerNodeMinted(name, tokenId, owner);
        _setInfos(manufacturerIdProxyAddress, tokenId, attrInfoPairList);
    }

    /// @notice Mints an integration (a software connection such as a car maker's cloud).
    function mintIntegration(
        address owner,
        string calldata name,
        AttributeInfoPair[] calldata attrInfoPairList
    ) external onlyRole(MINT_INTEGRATION_ROLE) returns (uint256 tokenId) {
        if (bytes(name).length == 0) revert EmptyName();
        if (_integrationIdByName[name] != 0) revert NameAlreadyRegistered(name);
        tokenId = integrationIdProxyAddress.safeMint(owner);
        _integrationIdByName[name] = tokenId;
        _integrationNameById[tokenId] = name;
        emit IntegrationNodeMinted(tokenId, owner);
        _setInfos(integrationIdProxyAddress, tokenId, attrInfoPairList);
    }

    // ***** Aftermarket devices *****

    /// @notice A manufacturer registers its devices: each NFT goes to the manufacturer token's
    /// owner, bound to the device's own key address.
    /// @dev Caller: the manufacturer token's owner, or a holder of its minter privilege (id 1).
    function mintAftermarketDeviceByManufacturerBatch(
        uint256 manufacturerNode,
        AftermarketDeviceInfos[] calldata adInfos
    ) external {
        INodeNft manufacturers = manufacturerIdProxyAddress;
        INodeNft ads = aftermarketDeviceIdProxyAddress;
        if (!manufacturers.exists(manufacturerNode)) revert InvalidParentNode(manufacturerNode);
        if (!manufacturers.hasPrivilege(manufacturerNode, MANUFACTURER_MINTER_PRIVILEGE, msg.sender)) {
            revert Unauthorized(msg.sender);
        }
        address owner = manufacturers.ownerOf(manufacturerNode);

        for (uint256 i = 0; i < adInfos.length; i++) {
            address deviceAddress = adInfos[i].addr;
            if (deviceAddress == address(0)) revert ZeroAddress();
            if (_adIdByAddress[deviceAddress] != 0) revert DeviceAlreadyRegistered(deviceAddress);

            uint256 tokenId = ads.safeMint(owner);
            _parentNode[address(ads)][tokenId] = manufacturerNode;
            _adIdByAddress[deviceAddress] = tokenId;
            _adAddressById[tokenId] = deviceAddress;

            emit AftermarketDeviceNodeMinted(manufacturerNode, tokenId, deviceAddress, owner);
            _setInfos(ads, tokenId, adInfos[i].attrInfoPairs);
        }
    }

    /// @notice Claim: the user and the device key both signed ClaimAftermarketDeviceSign.
    function claimAftermarketDeviceSign(
        uint256 aftermarketDeviceNode,
        address owner,
        bytes calldata ownerSig,
        bytes calldata aftermarketDeviceSig
    ) external onlyRole(CLAIM_AD_ROLE) {
        INodeNft ads = aftermarketDeviceIdProxyAddress;
        if (!ads.exists(aftermarketDeviceNode)) revert InvalidNode(address(ads), aftermarketDeviceNode);
        if (_adClaimed[aftermarketDeviceNode]) revert DeviceAlreadyClaimed(aftermarketDeviceNode);

        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(CLAIM_TYPEHASH, aftermarketDeviceNode, owner)));
        if (!_isValid(owner, digest, ownerSig)) revert InvalidOwnerSignature();
        if (!_isValid(_adAddressById[aftermarketDeviceNode], digest, aftermarketDeviceSig)) {
            revert InvalidAdSignature();
        }

        _adClaimed[aftermarketDeviceNode] = true;
        ads.safeTransferFrom(ads.ownerOf(aftermarketDeviceNode), owner, aftermarketDeviceNode);

        emit AftermarketDeviceClaimed(aftermarketDeviceNode, owner);
    }

    /// @notice Pair when the device and the vehicle have different owners: the device key and the
    /// vehicle owner both signed PairAftermarketDeviceSign.
    function pairAftermarketDeviceSign(
        uint256 aftermarketDeviceNode,
        uint256 vehicleNode,
        bytes calldata aftermarketDeviceSig,
        bytes calldata vehicleOwnerSig
    ) external onlyRole(PAIR_AD_ROLE) {
        (address adOwner, address vehicleOwner, bytes32 digest) = _checkPairable(aftermarketDeviceNode, vehicleNode);
        if (!_isValid(_adAddressById[aftermarketDeviceNode], digest, aftermarketDeviceSig)) {
            revert InvalidAdSignature();
        }
        if (!_isValid(vehicleOwner, digest, vehicleOwnerSig)) revert InvalidOwnerSignature();
        _pair(aftermarketDeviceNode, vehicleNode, adOwner);
    }

    /// @notice Pair when one user owns both: only the vehicle owner signs.
    function pairAftermarketDeviceSign(
        uint256 aftermarketDeviceNode,
        uint256 vehicleNode,
        bytes calldata signature
    ) external onlyRole(PAIR_AD_ROLE) {
        (address adOwner, address vehicleOwner, bytes32 digest) = _checkPairable(aftermarketDeviceNode, vehicleNode);
        if (adOwner != vehicleOwner) revert OwnersDoNotMatch();
        if (!_isValid(vehicleOwner, digest, signature)) revert InvalidOwnerSignature();
        _pair(aftermarketDeviceNode, vehicleNode, vehicleOwner);
    }

    /// @notice Unpair, signed by either the device owner or the vehicle owner (they can differ
    /// after transfers).
    function unpairAftermarketDeviceSign(
        uint256 aftermarketDeviceNode,
        uint256 vehicleNode,
        bytes calldata signature
    ) external onlyRole(UNPAIR_AD_ROLE) {
        INodeNft ads = aftermarketDeviceIdProxyAddress;
        INodeNft vehicles = vehicleIdProxyAddress;
        if (!ads.exists(aftermarketDeviceNode)) revert InvalidNode(address(ads), aftermarketDeviceNode);
        if (!vehicles.exists(vehicleNode)) revert InvalidNode(address(vehicles), vehicleNode);
        if (_vehicleToAd[vehicleNode] != aftermarketDeviceNode) revert VehicleNotPaired(vehicleNode);
        if (_adToVehicle[aftermarketDeviceNode] != vehicleNode) revert AdNotPaired(aftermarketDeviceNode);

        address adOwner = ads.ownerOf(aftermarketDeviceNode);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(UNPAIR_TYPEHASH, aftermarketDeviceNode, vehicleNode)));
        if (!_isValid(adOwner, digest, signature) && !_isValid(vehicles.ownerOf(vehicleNode), digest, signature)) {
            revert InvalidSigner();
        }

        delete _vehicleToAd[vehicleNode];
        delete _adToVehicle[aftermarketDeviceNode];
        emit AftermarketDeviceUnpaired(aftermarketDeviceNode, vehicleNode, adOwner);
    }

    /// @notice Development reset: the device becomes claimable again and its NFT goes back to its
    /// manufacturer's owner (what DIMO's returnToManufacturer does; DIMO's dev-admin version of
    /// this function only clears the flag). Refuses paired devices: unpair first.
    function unclaimAftermarketDeviceNode(
        uint256[] calldata aftermarketDeviceNodes
    ) external onlyRole(DEV_AD_UNCLAIM_ROLE) {
        INodeNft ads = aftermarketDeviceIdProxyAddress;
        for (uint256 i = 0; i < aftermarketDeviceNodes.length; i++) {
            uint256 node = aftermarketDeviceNodes[i];
            if (!ads.exists(node)) revert InvalidNode(address(ads), node);
            if (!_adClaimed[node]) revert AdNotClaimed(node);
            if (_adToVehicle[node] != 0) revert AdPaired(node);

            address previousOwner = ads.ownerOf(node);
            address manufacturerOwner = manufacturerIdProxyAddress.ownerOf(_parentNode[address(ads)][node]);
            _adClaimed[node] = false;
            ads.safeTransferFrom(previousOwner, manufacturerOwner, node);
            emit AftermarketDeviceUnclaimed(node, previousOwner);
        }
    }

    // ***** Vehicles *****

    /// @notice Mints a vehicle to `owner`, who signed MintVehicleWithDeviceDefinitionSign over
    /// the attribute and info arrays in the order of `attrInfo`.
    function mintVehicleWithDeviceDefinitionSign(
        uint256 manufacturerNode,
        address owner,
        string calldata deviceDefinitionId,
        AttributeInfoPair[] calldata attrInfo,
        bytes calldata signature
    ) external onlyRole(MINT_VEHICLE_ROLE) returns (uint256 tokenId) {
        if (!manufacturerIdProxyAddress.exists(manufacturerNode)) revert InvalidParentNode(manufacturerNode);
        bytes32 digest = _hashTypedDataV4(
            _mintVehicleStructHash(manufacturerNode, owner, deviceDefinitionId, attrInfo)
        );
        if (!_isValid(owner, digest, signature)) revert InvalidOwnerSignature();

        INodeNft vehicles = vehicleIdProxyAddress;
        tokenId = vehicles.safeMint(owner);
        _parentNode[address(vehicles)][tokenId] = manufacturerNode;
        _deviceDefinitionIdByVehicle[tokenId] = deviceDefinitionId;

        emit VehicleNodeMintedWithDeviceDefinition(manufacturerNode, tokenId, owner, deviceDefinitionId);
        _setInfos(vehicles, tokenId, attrInfo);
    }

    /// @notice Burns a vehicle its owner signed BurnVehicleSign for; it must be unpaired from
    /// any aftermarket or synthetic device.
    function burnVehicleSign(uint256 vehicleNode, bytes calldata signature) external onlyRole(BURN_VEHICLE_ROLE) {
        INodeNft vehicles = vehicleIdProxyAddress;
        if (!vehicles.exists(vehicleNode)) revert InvalidNode(address(vehicles), vehicleNode);
        if (_vehicleToAd[vehicleNode] != 0 || _vehicleToSd[vehicleNode] != 0) revert VehiclePaired(vehicleNode);

        address owner = vehicles.ownerOf(vehicleNode);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(BURN_VEHICLE_TYPEHASH, vehicleNode)));
        if (!_isValid(owner, digest, signature)) revert InvalidOwnerSignature();

        delete _parentNode[address(vehicles)][vehicleNode];
        delete _deviceDefinitionIdByVehicle[vehicleNode];
        emit VehicleNodeBurned(vehicleNode, owner);
        vehicles.burn(vehicleNode);
    }

    // ***** Synthetic devices *****

    /// @notice Mints a synthetic device for a vehicle: the device's wallet and the vehicle owner
    /// both signed MintSyntheticDeviceSign. The NFT goes to the vehicle owner.
    function mintSyntheticDeviceSign(
        MintSyntheticDeviceInput calldata data
    ) external onlyRole(MINT_SD_ROLE) returns (uint256 tokenId) {
        INodeNft vehicles = vehicleIdProxyAddress;
        if (!integrationIdProxyAddress.exists(data.integrationNode)) revert InvalidParentNode(data.integrationNode);
        if (!vehicles.exists(data.vehicleNode)) revert InvalidNode(address(vehicles), data.vehicleNode);
        address deviceAddress = data.syntheticDeviceAddr;
        if (deviceAddress == address(0)) revert ZeroAddress();
        if (_sdIdByAddress[deviceAddress] != 0) revert DeviceAlreadyRegistered(deviceAddress);
        if (_vehicleToSd[data.vehicleNode] != 0) revert VehiclePaired(data.vehicleNode);

        address owner = vehicles.ownerOf(data.vehicleNode);
        bytes32 digest = _hashTypedDataV4(
            keccak256(abi.encode(MINT_SD_TYPEHASH, data.integrationNode, data.vehicleNode))
        );
        if (!_isValid(deviceAddress, digest, data.syntheticDeviceSig)) revert InvalidSdSignature();
        if (!_isValid(owner, digest, data.vehicleOwnerSig)) revert InvalidOwnerSignature();

        INodeNft sds = syntheticDeviceIdProxyAddress;
        tokenId = sds.safeMint(owner);
        _parentNode[address(sds)][tokenId] = data.integrationNode;
        _vehicleToSd[data.vehicleNode] = tokenId;
        _sdToVehicle[tokenId] = data.vehicleNode;
        _sdIdByAddress[deviceAddress] = tokenId;
        _sdAddressById[tokenId] = deviceAddress;

        emit SyntheticDeviceNodeMinted(data.integrationNode, tokenId, data.vehicleNode, deviceAddress, owner);
        _setInfos(sds, tokenId, data.attrInfoPairs);
    }

    /// @notice Burns a synthetic device. Signed (BurnSyntheticDeviceSign) by the synthetic device's
    /// owner or the vehicle's owner: vehicle transfers do not carry the synthetic device along here,
    /// so a new vehicle owner must still be able to clear it before burning the vehicle.
    function burnSyntheticDeviceSign(
        uint256 vehicleNode,
        uint256 syntheticDeviceNode,
        bytes calldata ownerSig
    ) external onlyRole(BURN_SD_ROLE) {
        INodeNft vehicles = vehicleIdProxyAddress;
        INodeNft sds = syntheticDeviceIdProxyAddress;
        if (!vehicles.exists(vehicleNode)) revert InvalidNode(address(vehicles), vehicleNode);
        if (!sds.exists(syntheticDeviceNode)) revert InvalidNode(address(sds), syntheticDeviceNode);
        if (_vehicleToSd[vehicleNode] != syntheticDeviceNode) revert VehicleNotPaired(vehicleNode);

        address owner = sds.ownerOf(syntheticDeviceNode);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(BURN_SD_TYPEHASH, vehicleNode, syntheticDeviceNode)));
        if (!_isValid(owner, digest, ownerSig) && !_isValid(vehicles.ownerOf(vehicleNode), digest, ownerSig)) {
            revert InvalidOwnerSignature();
        }

        delete _vehicleToSd[vehicleNode];
        delete _sdToVehicle[syntheticDeviceNode];
        delete _sdIdByAddress[_sdAddressById[syntheticDeviceNode]];
        delete _sdAddressById[syntheticDeviceNode];
        delete _parentNode[address(sds)][syntheticDeviceNode];
        sds.burn(syntheticDeviceNode);
        emit SyntheticDeviceNodeBurned(syntheticDeviceNode, vehicleNode, owner);
    }

    // ***** Privileges *****

    /// @notice Grants `user` the privileges `privIds` on a vehicle until `expires` (0 or a time in
    /// the past revokes them), as the vehicle's owner signed in SetPrivilegesSign. The vehicle NFT
    /// emits one PrivilegeSet per id, exactly as for the owner's own setPrivilege call.
    /// @dev `nonce` must be the vehicle NFT's current privilegeNonce(tokenId, user); the NFT moves
    /// it on every change, so each signature works once and never after a later change.
    function setPrivilegesSign(
        uint256 tokenId,
        uint256[] calldata privIds,
        address user,
        uint256 expires,
        uint256 nonce,
        bytes calldata signature
    ) external onlyRole(SET_PRIVILEGES_ROLE) {
        INodeNft vehicles = vehicleIdProxyAddress;
        if (!vehicles.exists(tokenId)) revert InvalidNode(address(vehicles), tokenId);
        uint256 expected = vehicles.privilegeNonce(tokenId, user);
        if (nonce != expected) revert InvalidPrivilegeNonce(tokenId, user, expected);

        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(SET_PRIVILEGES_TYPEHASH, tokenId, keccak256(abi.encodePacked(privIds)), user, expires, nonce)
            )
        );
        if (!_isValid(vehicles.ownerOf(tokenId), digest, signature)) revert InvalidOwnerSignature();

        vehicles.setPrivilegesByRegistry(tokenId, privIds, user, expires);
    }

    // ***** Views *****

    /// @notice The EIP-712 domain separator (name "DIMO", version "1", this chain, this contract).
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function isAttributeWhitelisted(address idProxy, string calldata attribute) external view returns (bool) {
        return _whitelisted[idProxy][attribute];
    }

    function getManufacturerIdByName(string calldata name) external view returns (uint256 nodeId) {
        return _manufacturerIdByName[name];
    }

    function getManufacturerNameById(uint256 tokenId) external view returns (string memory name) {
        return _manufacturerNameById[tokenId];
    }

    function getIntegrationIdByName(string calldata name) external view returns (uint256 nodeId) {
        return _integrationIdByName[name];
    }

    function getIntegrationNameById(uint256 tokenId) external view returns (string memory name) {
        return _integrationNameById[tokenId];
    }

    function getAftermarketDeviceIdByAddress(address addr) external view returns (uint256 nodeId) {
        return _adIdByAddress[addr];
    }

    function getAftermarketDeviceAddressById(uint256 nodeId) external view returns (address addr) {
        return _adAddressById[nodeId];
    }

    function isAftermarketDeviceClaimed(uint256 nodeId) external view returns (bool isClaimed) {
        return _adClaimed[nodeId];
    }

    function getSyntheticDeviceIdByAddress(address addr) external view returns (uint256 nodeId) {
        return _sdIdByAddress[addr];
    }

    function getSyntheticDeviceAddressById(uint256 nodeId) external view returns (address addr) {
        return _sdAddressById[nodeId];
    }

    /// @notice Vehicle <-> aftermarket device pairing, read from either side (0 = none).
    function getLink(address idProxy, uint256 sourceNode) external view returns (uint256 targetNode) {
        if (idProxy == address(vehicleIdProxyAddress)) return _vehicleToAd[sourceNode];
        if (idProxy == address(aftermarketDeviceIdProxyAddress)) return _adToVehicle[sourceNode];
        return 0;
    }

    /// @notice Links between two node types (vehicle <-> synthetic device, vehicle <-> aftermarket
    /// device), read from either side (0 = none).
    function getNodeLink(
        address idProxySource,
        address idProxyTarget,
        uint256 sourceNode
    ) external view returns (uint256 targetNode) {
        address vehicles = address(vehicleIdProxyAddress);
        address sds = address(syntheticDeviceIdProxyAddress);
        address ads = address(aftermarketDeviceIdProxyAddress);
        if (idProxySource == vehicles && idProxyTarget == sds) return _vehicleToSd[sourceNode];
        if (idProxySource == sds && idProxyTarget == vehicles) return _sdToVehicle[sourceNode];
        if (idProxySource == vehicles && idProxyTarget == ads) return _vehicleToAd[sourceNode];
        if (idProxySource == ads && idProxyTarget == vehicles) return _adToVehicle[sourceNode];
        return 0;
    }

    function getParentNode(address idProxy, uint256 tokenId) external view returns (uint256 parentNode) {
        return _parentNode[idProxy][tokenId];
    }

    function getInfo(
        address idProxy,
        uint256 tokenId,
        string calldata attribute
    ) external view returns (string memory info) {
        return _infos[idProxy][tokenId][attribute];
    }

    function getDeviceDefinitionIdByVehicleId(uint256 vehicleId) external view returns (string memory ddId) {
        return _deviceDefinitionIdByVehicle[vehicleId];
    }

    // ***** Internals *****

    function _isValid(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        return SignatureChecker.isValidSignatureNowCalldata(signer, digest, signature);
    }

    function _addAttribute(address idProxy, string memory attribute) private {
        _whitelisted[idProxy][attribute] = true;
        emit AttributeWhitelisted(idProxy, attribute);
    }

    function _checkPairable(
        uint256 aftermarketDeviceNode,
        uint256 vehicleNode
    ) private view returns (address adOwner, address vehicleOwner, bytes32 digest) {
        INodeNft vehicles = vehicleIdProxyAddress;
        INodeNft ads = aftermarketDeviceIdProxyAddress;
        if (!vehicles.exists(vehicleNode)) revert InvalidNode(address(vehicles), vehicleNode);
        if (!ads.exists(aftermarketDeviceNode)) revert InvalidNode(address(ads), aftermarketDeviceNode);
        if (!_adClaimed[aftermarketDeviceNode]) revert AdNotClaimed(aftermarketDeviceNode);
        if (_vehicleToAd[vehicleNode] != 0) revert VehiclePaired(vehicleNode);
        if (_adToVehicle[aftermarketDeviceNode] != 0) revert AdPaired(aftermarketDeviceNode);

        adOwner = ads.ownerOf(aftermarketDeviceNode);
        vehicleOwner = vehicles.ownerOf(vehicleNode);
        digest = _hashTypedDataV4(keccak256(abi.encode(PAIR_TYPEHASH, aftermarketDeviceNode, vehicleNode)));
    }

    function _pair(uint256 aftermarketDeviceNode, uint256 vehicleNode, address owner) private {
        _vehicleToAd[vehicleNode] = aftermarketDeviceNode;
        _adToVehicle[aftermarketDeviceNode] = vehicleNode;
        emit AftermarketDevicePaired(aftermarketDeviceNode, vehicleNode, owner);
    }

    /// @dev Standard EIP-712 encoding of the two string[] fields: keccak of the concatenated
    /// keccaks of each element, in the order of `attrInfo`.
    function _mintVehicleStructHash(
        uint256 manufacturerNode,
        address owner,
        string calldata deviceDefinitionId,
        AttributeInfoPair[] calldata attrInfo
    ) private pure returns (bytes32) {
        uint256 count = attrInfo.length;
        bytes32[] memory attributeHashes = new bytes32[](count);
        bytes32[] memory infoHashes = new bytes32[](count);
        for (uint256 i = 0; i < count; i++) {
            attributeHashes[i] = keccak256(bytes(attrInfo[i].attribute));
            infoHashes[i] = keccak256(bytes(attrInfo[i].info));
        }
        return
            keccak256(
                abi.encode(
                    MINT_VEHICLE_WITH_DD_TYPEHASH,
                    manufacturerNode,
                    owner,
                    keccak256(bytes(deviceDefinitionId)),
                    keccak256(abi.encodePacked(attributeHashes)),
                    keccak256(abi.encodePacked(infoHashes))
                )
            );
    }

    /// @dev Attributes must be whitelisted for the node type; each write emits that type's event.
    function _setInfos(INodeNft idProxy, uint256 tokenId, AttributeInfoPair[] calldata pairs) private {
        address proxy = address(idProxy);
        for (uint256 i = 0; i < pairs.length; i++) {
            string calldata attribute = pairs[i].attribute;
            string calldata info = pairs[i].info;
            if (!_whitelisted[proxy][attribute]) revert AttributeNotWhitelisted(attribute);
            _infos[proxy][tokenId][attribute] = info;

            if (proxy == address(vehicleIdProxyAddress)) emit VehicleAttributeSet(tokenId, attribute, info);
            else if (proxy == address(aftermarketDeviceIdProxyAddress)) {
                emit AftermarketDeviceAttributeSet(tokenId, attribute, info);
            } else if (proxy == address(syntheticDeviceIdProxyAddress)) {
                emit SyntheticDeviceAttributeSet(tokenId, attribute, info);
            } else if (proxy == address(manufacturerIdProxyAddress)) {
                emit ManufacturerAttributeSet(tokenId, attribute, info);
            } else emit IntegrationAttributeSet(tokenId, attribute, info);
        }
    }
}
