-- CreateTable
CREATE TABLE `MediaAsset` (
    `id` VARCHAR(191) NOT NULL,
    `userId` VARCHAR(191) NOT NULL,
    `type` ENUM('image', 'video') NOT NULL,
    `mimeType` VARCHAR(191) NOT NULL,
    `title` VARCHAR(255) NULL,
    `description` TEXT NULL,
    `tags` JSON NULL,
    `sizeBytes` BIGINT NOT NULL,
    `width` INTEGER NULL,
    `height` INTEGER NULL,
    `durationMs` INTEGER NULL,
    `storageKey` VARCHAR(1024) NOT NULL,
    `storageProvider` VARCHAR(191) NOT NULL DEFAULT 'local',
    `checksum` CHAR(64) NULL,
    `status` ENUM('pending', 'processing', 'ready', 'failed') NOT NULL DEFAULT 'pending',
    `visibility` ENUM('private', 'shared', 'public') NOT NULL DEFAULT 'private',
    `source` ENUM('upload', 'generated') NOT NULL DEFAULT 'upload',
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,
    `deletedAt` DATETIME(3) NULL,

    INDEX `MediaAsset_userId_deletedAt_createdAt_id_idx`(`userId`, `deletedAt`, `createdAt`, `id`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `MediaVariant` (
    `id` VARCHAR(191) NOT NULL,
    `assetId` VARCHAR(191) NOT NULL,
    `kind` ENUM('original', 'thumbnail', 'preview', 'poster') NOT NULL,
    `format` VARCHAR(191) NOT NULL,
    `width` INTEGER NULL,
    `height` INTEGER NULL,
    `sizeBytes` BIGINT NOT NULL,
    `storageKey` VARCHAR(1024) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `MediaVariant_assetId_idx`(`assetId`),
    UNIQUE INDEX `MediaVariant_assetId_kind_key`(`assetId`, `kind`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `MediaAttachment` (
    `id` VARCHAR(191) NOT NULL,
    `assetId` VARCHAR(191) NOT NULL,
    `userId` VARCHAR(191) NOT NULL,
    `ownerType` ENUM('script', 'character', 'location', 'theme', 'scene') NOT NULL,
    `ownerId` VARCHAR(191) NOT NULL,
    `role` ENUM('cover', 'inline', 'gallery', 'reference') NOT NULL,
    `sortOrder` INTEGER NOT NULL DEFAULT 0,
    `meta` JSON NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `MediaAttachment_ownerType_ownerId_idx`(`ownerType`, `ownerId`),
    INDEX `MediaAttachment_assetId_idx`(`assetId`),
    INDEX `MediaAttachment_userId_idx`(`userId`),
    UNIQUE INDEX `MediaAttachment_ownerType_ownerId_role_assetId_key`(`ownerType`, `ownerId`, `role`, `assetId`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- CreateTable
CREATE TABLE `MediaGenerationJob` (
    `id` VARCHAR(191) NOT NULL,
    `userId` VARCHAR(191) NOT NULL,
    `type` ENUM('image', 'video') NOT NULL DEFAULT 'image',
    `prompt` TEXT NOT NULL,
    `negativePrompt` TEXT NULL,
    `params` JSON NULL,
    `provider` VARCHAR(191) NOT NULL,
    `model` VARCHAR(191) NULL,
    `status` ENUM('queued', 'running', 'succeeded', 'failed') NOT NULL DEFAULT 'queued',
    `error` TEXT NULL,
    `attempts` INTEGER NOT NULL DEFAULT 0,
    `result` JSON NULL,
    `resultAssetId` VARCHAR(191) NULL,
    `startedAt` DATETIME(3) NULL,
    `completedAt` DATETIME(3) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `MediaGenerationJob_userId_createdAt_idx`(`userId`, `createdAt`),
    INDEX `MediaGenerationJob_status_updatedAt_idx`(`status`, `updatedAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- AddForeignKey
ALTER TABLE `MediaVariant` ADD CONSTRAINT `MediaVariant_assetId_fkey` FOREIGN KEY (`assetId`) REFERENCES `MediaAsset`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `MediaAttachment` ADD CONSTRAINT `MediaAttachment_assetId_fkey` FOREIGN KEY (`assetId`) REFERENCES `MediaAsset`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE `MediaGenerationJob` ADD CONSTRAINT `MediaGenerationJob_resultAssetId_fkey` FOREIGN KEY (`resultAssetId`) REFERENCES `MediaAsset`(`id`) ON DELETE SET NULL ON UPDATE CASCADE;
