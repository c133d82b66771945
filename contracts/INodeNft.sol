// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice What the registry needs from a node NFT.
interface INodeNft {
    function safeMint(address to) external returns (uint256 tokenId);

    function burn(uint256 tokenId) external;

    function exists(uint256 tokenId) external view returns (bool);

    function ownerOf(uint256 tokenId) external view returns (address);

    function safeTransferFrom(address from, address to, uint256 tokenId) external;

    function privilegeNonce(uint256 tokenId, address user) external view returns (uint256);

    function setPrivilegesByRegistry(uint256 tokenId, uint256[] calldata privIds, address user, uint256 expires) external;

    function hasPrivilege(uint256 tokenId, uint256 privId, address user) external view returns (bool);
}
