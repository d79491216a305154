-- TEST / DEV FIXTURE ONLY: seed data for the host-app stand-in tables
-- (prisma-compat/host-fixture). Never load this into a real host database.
--
-- Two users, u-alice and u-bob, each owning one script with 2 scenes,
-- 2 characters, 2 locations and 2 themes. Ids are fixed and readable.
-- Idempotent: run it as often as you like against the target database, e.g.
--   mariadb mediadb < prisma-compat/host-fixture/seed.sql
-- Re-running resets every fixture row to the values below.

SET NAMES utf8mb4;
SET time_zone = '+00:00';

INSERT INTO `Script` (`id`, `userId`, `title`, `createdAt`, `updatedAt`) VALUES
    ('script-alice-1', 'u-alice', 'Alice''s Screenplay', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('script-bob-1', 'u-bob', 'Bob''s Screenplay', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
ON DUPLICATE KEY UPDATE
    `userId` = VALUES(`userId`),
    `title` = VALUES(`title`),
    `createdAt` = VALUES(`createdAt`),
    `updatedAt` = VALUES(`updatedAt`);

INSERT INTO `Scene` (`id`, `scriptId`, `title`, `sortOrder`, `createdAt`, `updatedAt`) VALUES
    ('scene-alice-1', 'script-alice-1', 'Opening at the harbour', 0, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('scene-alice-2', 'script-alice-1', 'The storm', 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('scene-bob-1', 'script-bob-1', 'Night market', 0, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('scene-bob-2', 'script-bob-1', 'Rooftop chase', 1, '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
ON DUPLICATE KEY UPDATE
    `scriptId` = VALUES(`scriptId`),
    `title` = VALUES(`title`),
    `sortOrder` = VALUES(`sortOrder`),
    `createdAt` = VALUES(`createdAt`),
    `updatedAt` = VALUES(`updatedAt`);

INSERT INTO `Character` (`id`, `scriptId`, `name`, `createdAt`, `updatedAt`) VALUES
    ('character-alice-1', 'script-alice-1', 'Mara', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('character-alice-2', 'script-alice-1', 'Captain Ode', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('character-bob-1', 'script-bob-1', 'Jun', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('character-bob-2', 'script-bob-1', 'Detective Reyes', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
ON DUPLICATE KEY UPDATE
    `scriptId` = VALUES(`scriptId`),
    `name` = VALUES(`name`),
    `createdAt` = VALUES(`createdAt`),
    `updatedAt` = VALUES(`updatedAt`);

INSERT INTO `Location` (`id`, `scriptId`, `name`, `createdAt`, `updatedAt`) VALUES
    ('location-alice-1', 'script-alice-1', 'Harbour', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('location-alice-2', 'script-alice-1', 'Lighthouse', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('location-bob-1', 'script-bob-1', 'Market street', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('location-bob-2', 'script-bob-1', 'Rooftops', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
ON DUPLICATE KEY UPDATE
    `scriptId` = VALUES(`scriptId`),
    `name` = VALUES(`name`),
    `createdAt` = VALUES(`createdAt`),
    `updatedAt` = VALUES(`updatedAt`);

INSERT INTO `Theme` (`id`, `scriptId`, `name`, `createdAt`, `updatedAt`) VALUES
    ('theme-alice-1', 'script-alice-1', 'Homecoming', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('theme-alice-2', 'script-alice-1', 'Loss', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('theme-bob-1', 'script-bob-1', 'Trust', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000'),
    ('theme-bob-2', 'script-bob-1', 'Ambition', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
ON DUPLICATE KEY UPDATE
    `scriptId` = VALUES(`scriptId`),
    `name` = VALUES(`name`),
    `createdAt` = VALUES(`createdAt`),
    `updatedAt` = VALUES(`updatedAt`);
