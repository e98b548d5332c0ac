import type { PrismaClient } from '../generated/prisma/client.ts';
import { isCanonicalUuid } from './ids.ts';

/**
 * Who the users are, for listings that name them: `users` is read here (beside the access
 * decisions that read it), so the log and the history routes never join it.
 */
export class UserDirectory {
  constructor(private readonly prisma: PrismaClient) {}

  /** The email of each of these users, in one query; ids that name no user are left out. */
  async emailsOf(userIds: Iterable<string | null>): Promise<Map<string, string>> {
    const ids = [...new Set([...userIds].filter((id): id is string => id !== null))];
    if (ids.length === 0) return new Map();
    const users = await this.prisma.user.findMany({ where: { userId: { in: ids } }, select: { userId: true, email: true } });
    return new Map(users.map((user) => [user.userId, user.email]));
  }

  /**
   * The user a filter names: a canonical UUID is a `user_id`, anything else an email (compared
   * case-insensitively, as people type them). Null when no user matches.
   */
  async find(idOrEmail: string): Promise<{ userId: string; email: string } | null> {
    const where = isCanonicalUuid(idOrEmail) ? { userId: idOrEmail } : { email: { equals: idOrEmail, mode: 'insensitive' as const } };
    return this.prisma.user.findFirst({ where, select: { userId: true, email: true } });
  }
}
