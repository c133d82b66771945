// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title NodeNft
/// @notice One ERC-721 per node type (vehicle, aftermarket device, synthetic device, manufacturer,
/// integration), deployed once per type. Minting and burning belong to the registry; owners grant
/// per-token privileges the way DIMO's MultiPrivilege does.
contract NodeNft is ERC721 {
    error OnlyRegistry(address caller);
    error ZeroAddress();

    /// @dev Same signature as DIMO's MultiPrivilege so indexers decode both alike.
    event PrivilegeSet(
        uint256 indexed tokenId,
        uint256 version,
        uint256 indexed privId,
        address indexed user,
        uint256 expires
    );

    address public immutable registry;

    uint256 private _lastTokenId;

    /// @dev Bumped on every transfer: privileges are keyed by version, so a new owner starts clean.
    mapping(uint256 tokenId => uint256 version) public tokenIdToVersion;

    mapping(uint256 tokenId => mapping(uint256 version => mapping(uint256 privId => mapping(address user => uint256 expires))))
        private _privilegeExpiry;

    /// @notice The nonce the owner's next signed privilege change for `user` on `tokenId` must carry
    /// (SetPrivilegesSign, checked by the registry). It moves on every change of that user's
    /// privileges, signed or direct, so a signed grant is usable once and never after a later
    /// revocation or change. Per user, so that shares with different users do not wait on each other.
    mapping(uint256 tokenId => mapping(address user => uint256 nonce)) public privilegeNonce;

    modifier onlyRegistry() {
        if (msg.sender != registry) revert OnlyRegistry(msg.sender);
        _;
    }

    constructor(string memory name_, string memory symbol_, address registry_) ERC721(name_, symbol_) {
        if (registry_ == address(0)) revert ZeroAddress();
        registry = registry_;
    }

    /// @notice Mints the next id (ids start at 1 and are never reused; 0 means "none" in the registry).
    function safeMint(address to) external onlyRegistry returns (uint256 tokenId) {
        tokenId = ++_lastTokenId;
        _safeMint(to, tokenId);
    }

    function burn(uint256 tokenId) external onlyRegistry {
        _burn(tokenId);
    }

    function exists(uint256 tokenId) external view returns (bool) {
        return _ownerOf(tokenId) != address(0);
    }

    /// @notice Number of tokens ever minted (also the highest id).
    function totalMinted() external view returns (uint256) {
        return _lastTokenId;
    }

    /// @notice Grants (or, with an expiry in the past, revokes) a privilege on a token.
    /// @dev Called by the owner (or an approved operator) directly, not through the relayer.
    function setPrivilege(uint256 tokenId, uint256 privId, address user, uint256 expires) external {
        address owner = _requireOwned(tokenId);
        if (!ERC721._isAuthorized(owner, msg.sender, tokenId)) {
            revert ERC721InsufficientApproval(msg.sender, tokenId);
        }
        _bumpPrivilegeNonce(tokenId, user);
        _setPrivilege(tokenId, tokenIdToVersion[tokenId], privId, user, expires);
    }

    /// @notice Grants (or revokes) several privileges at once for the registry, which has checked
    /// the owner's SetPrivilegesSign signature and its nonce.
    function setPrivilegesByRegistry(
        uint256 tokenId,
        uint256[] calldata privIds,
        address user,
        uint256 expires
    ) external onlyRegistry {
        _requireOwned(tokenId);
        _bumpPrivilegeNonce(tokenId, user);
        uint256 version = tokenIdToVersion[tokenId];
        for (uint256 i = 0; i < privIds.length; i++) {
            _setPrivilege(tokenId, version, privIds[i], user, expires);
        }
    }

    /// @notice The owner holds every privilege; anyone else until the expiry of the current grant.
    function hasPrivilege(uint256 tokenId, uint256 privId, address user) external view returns (bool) {
        address owner = _ownerOf(tokenId);
        if (owner == address(0)) return false;
        if (owner == user) return true;
        return _privilegeExpiry[tokenId][tokenIdToVersion[tokenId]][privId][user] > block.timestamp;
    }

    /// @notice Expiry of the current grant (0 if none); the owner is not special-cased here.
    function privilegeExpiresAt(uint256 tokenId, uint256 privId, address user) external view returns (uint256) {
        return _privilegeExpiry[tokenId][tokenIdToVersion[tokenId]][privId][user];
    }

    function _setPrivilege(uint256 tokenId, uint256 version, uint256 privId, address user, uint256 expires) private {
        _privilegeExpiry[tokenId][version][privId][user] = expires;
        emit PrivilegeSet(tokenId, version, privId, user, expires);
    }

    function _bumpPrivilegeNonce(uint256 tokenId, address user) private {
        unchecked {
            ++privilegeNonce[tokenId][user];
        }
    }

    /// @dev The registry moves tokens on users' signed behalf (claim), so it needs no approval.
    function _isAuthorized(address owner, address spender, uint256 tokenId) internal view override returns (bool) {
        return spender == registry || super._isAuthorized(owner, spender, tokenId);
    }

    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        if (from != address(0) && to != address(0)) {
            unchecked {
                ++tokenIdToVersion[tokenId];
            }
        }
    }
}
